"""manifests: end-of-day close-outs and the shipments each lists

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manifests",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=False),
        sa.Column("shipment_count", sa.Integer(), nullable=False),
        sa.Column("parcel_count", sa.Integer(), nullable=False),
        sa.Column("document_name", sa.String(length=200), nullable=False),
        sa.Column("document_source", sa.String(length=16), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("carrier_reference", sa.String(length=128), nullable=True),
        sa.Column("odoo_carrier_id", sa.BigInteger(), nullable=True),
        sa.Column("odoo_attachment_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manifests")),
    )
    op.create_index("ix_manifests_account_day", "manifests", ["account", "day"])
    op.create_table(
        "manifest_shipments",
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("manifest_id", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_manifest_shipments_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manifest_id"],
            ["manifests.id"],
            name=op.f("fk_manifest_shipments_manifest_id_manifests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_manifest_shipments")),
    )
    op.create_index(
        op.f("ix_manifest_shipments_manifest_id"), "manifest_shipments", ["manifest_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_manifest_shipments_manifest_id"), table_name="manifest_shipments")
    op.drop_table("manifest_shipments")
    op.drop_index("ix_manifests_account_day", table_name="manifests")
    op.drop_table("manifests")
