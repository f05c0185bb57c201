"""Bundle contents and their explosion down to stock-holding (non-bundle) products."""

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Walks nested bundles down to their leaves, multiplying quantities along each path.
# A leaf reached by two paths needs both amounts, so the caller sums per leaf. The
# depth bound is a guard only: PUT components already refuses cycles.
_EXPLODE = text(
    """
    WITH RECURSIVE tree(root, product_id, quantity, depth) AS (
        SELECT bc.bundle_id, bc.component_id, bc.quantity::bigint, 1
        FROM bundle_components AS bc
        WHERE bc.company_id = :company_id AND bc.bundle_id = ANY(CAST(:bundles AS bigint[]))
      UNION ALL
        SELECT t.root, bc.component_id, t.quantity * bc.quantity, t.depth + 1
        FROM tree AS t
        JOIN bundle_components AS bc ON bc.bundle_id = t.product_id
        WHERE t.depth < 32
    )
    SELECT t.root, t.product_id, sum(t.quantity)::bigint AS quantity
    FROM tree AS t
    JOIN products AS p ON p.id = t.product_id
    WHERE NOT p.is_bundle
    GROUP BY t.root, t.product_id
    """
)


class BundleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def explode(
        self, company_id: int, bundle_ids: Iterable[int]
    ) -> dict[int, dict[int, int]]:
        """For each bundle: {leaf product id: units of it in one bundle}. A bundle with no
        components maps to an empty dict."""
        ids = sorted(set(bundle_ids))
        result: dict[int, dict[int, int]] = {bundle_id: {} for bundle_id in ids}
        rows = await self.session.execute(_EXPLODE, {"company_id": company_id, "bundles": ids})
        leaves: dict[int, dict[int, int]] = defaultdict(dict)
        for row in rows:
            leaves[row.root][row.product_id] = row.quantity
        result.update(leaves)
        return result
