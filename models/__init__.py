"""vanban's domain: settings, database, tables and the rules that own them.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic reads it from here).
"""

from models.approvals import ApprovalStep
from models.assignments import Assignment, AssignmentNotice
from models.audit import AuditEntry, AuditHead
from models.channels import Channel
from models.credentials import Credential, OtpSecret
from models.deliveries import Delivery
from models.directory import (
    Agency, AgencyGroup, AgencyGroupMember, AgencyVersion, Official, Position, SigningAuthority, Unit,
)
from models.document import Addressee, Document, DocumentLink, GeneratedFile
from models.incoming import IncomingEntry
from models.lease import Lease
from models.register import OutgoingRegister, RegisterEntry

__all__ = [
    "Addressee", "Agency", "AgencyVersion", "Position", "ApprovalStep", "Assignment", "AssignmentNotice", "AuditEntry", "AuditHead", "Channel", "Credential", "Delivery", "IncomingEntry", "Lease", "AgencyGroup", "AgencyGroupMember", "Document", "DocumentLink", "GeneratedFile",
    "Official", "OtpSecret", "OutgoingRegister", "RegisterEntry", "SigningAuthority", "Unit",
]
