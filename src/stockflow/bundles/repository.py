"""Bundle contents and their explosion down to stock-holding (non-bundle) products."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

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


# Deepest nesting (in edges) that `explode` walks; PUT components refuses deeper chains
# so an explosion can never be silently cut short.
MAX_NESTING = 32

Pair = tuple[int, int]

_LOCK_COMPANY = text(
    "SELECT pg_advisory_xact_lock("
    "hashtextextended('stockflow.bundles:' || CAST(:company_id AS bigint), 0))"
)

_LOCK_PRODUCT = text(
    "SELECT is_bundle FROM products WHERE company_id = :company_id AND id = :id FOR UPDATE"
)

_EXISTING = text(
    "SELECT id FROM products WHERE company_id = :company_id AND id = ANY(CAST(:ids AS bigint[]))"
)

_DELETE_COMPONENTS = text(
    "DELETE FROM bundle_components WHERE company_id = :company_id AND bundle_id = :bundle_id"
)

_INSERT_COMPONENTS = text(
    """
    INSERT INTO bundle_components (company_id, bundle_id, component_id, quantity)
    SELECT :company_id, :bundle_id, t.c, t.q
    FROM unnest(CAST(:components AS bigint[]), CAST(:quantities AS int[])) AS t(c, q)
    """
)

# UNION (not UNION ALL) visits each product once, so this ends even on a cycle.
_REACHES_ITSELF = text(
    """
    WITH RECURSIVE reach(id) AS (
        SELECT component_id FROM bundle_components
        WHERE company_id = :company_id AND bundle_id = :bundle_id
      UNION
        SELECT bc.component_id
        FROM reach AS r JOIN bundle_components AS bc ON bc.bundle_id = r.id
    )
    SELECT EXISTS (SELECT 1 FROM reach WHERE id = :bundle_id)
    """
)

# Distinct (product, depth) pairs keep shared sub-bundles from multiplying the rows; the
# limit only stops the walk once the answer is known to be too deep.
_DEPTH_DOWN = text(
    """
    WITH RECURSIVE down(id, depth) AS (
        SELECT component_id, 1 FROM bundle_components
        WHERE company_id = :company_id AND bundle_id = :bundle_id
      UNION
        SELECT bc.component_id, d.depth + 1
        FROM down AS d JOIN bundle_components AS bc ON bc.bundle_id = d.id
        WHERE d.depth < :limit
    )
    SELECT max(depth) FROM down
    """
)

_DEPTH_UP = text(
    """
    WITH RECURSIVE up(id, depth) AS (
        SELECT bundle_id, 1 FROM bundle_components
        WHERE company_id = :company_id AND component_id = :bundle_id
      UNION
        SELECT bc.bundle_id, u.depth + 1
        FROM up AS u JOIN bundle_components AS bc ON bc.component_id = u.id
        WHERE u.depth < :limit
    )
    SELECT max(depth) FROM up
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

    async def components(self, company_id: int, bundle_id: int) -> list[tuple[int, int]]:
        """A bundle's direct contents as (component id, quantity), by component id."""
        rows = await self.session.execute(
            text(
                """
                SELECT component_id, quantity FROM bundle_components
                WHERE company_id = :company_id AND bundle_id = :bundle_id
                ORDER BY component_id
                """
            ),
            {"company_id": company_id, "bundle_id": bundle_id},
        )
        return [(row.component_id, row.quantity) for row in rows]

    async def lock_company_bundles(self, company_id: int) -> None:
        """Serialize changes to one company's bundle contents until the transaction ends.

        Locking only the edited bundle is not enough: PUT A := [B] and PUT B := [A] lock
        different rows, neither sees the other's uncommitted edge, and together they make
        a cycle. Contents change rarely, so one lock per company costs nothing."""
        await self.session.execute(_LOCK_COMPANY, {"company_id": company_id})

    async def lock_product(self, company_id: int, product_id: int) -> bool | None:
        """Lock a product row of `company_id`; returns its `is_bundle`, None if unknown."""
        row = await self.session.execute(
            _LOCK_PRODUCT, {"company_id": company_id, "id": product_id}
        )
        found = row.first()
        return None if found is None else bool(found.is_bundle)

    async def existing_products(self, company_id: int, product_ids: Iterable[int]) -> set[int]:
        rows = await self.session.execute(
            _EXISTING, {"company_id": company_id, "ids": sorted(set(product_ids))}
        )
        return {row.id for row in rows}

    async def replace(self, company_id: int, bundle_id: int, lines: Sequence[Pair]) -> None:
        """Make `lines` ((component id, quantity) pairs) the bundle's whole contents."""
        params = {"company_id": company_id, "bundle_id": bundle_id}
        await self.session.execute(_DELETE_COMPONENTS, params)
        if lines:
            await self.session.execute(
                _INSERT_COMPONENTS,
                {
                    **params,
                    "components": [c for c, _ in lines],
                    "quantities": [q for _, q in lines],
                },
            )

    async def contains_itself(self, company_id: int, bundle_id: int) -> bool:
        """Whether `bundle_id` is reachable from its own contents (a cycle)."""
        found = await self.session.scalar(
            _REACHES_ITSELF, {"company_id": company_id, "bundle_id": bundle_id}
        )
        return bool(found)

    async def longest_path_through(self, company_id: int, bundle_id: int) -> int:
        """Edges on the longest chain of nesting that passes through `bundle_id`: from the
        outermost bundle containing it down to its deepest component. Call only when the
        contents are known to be acyclic."""
        params = {"company_id": company_id, "bundle_id": bundle_id, "limit": MAX_NESTING + 1}
        down = await self.session.scalar(_DEPTH_DOWN, params)
        up = await self.session.scalar(_DEPTH_UP, params)
        return int(down or 0) + int(up or 0)
