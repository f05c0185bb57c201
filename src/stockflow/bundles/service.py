from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.bundles.exceptions import (
    bundle_not_found,
    components_not_found,
    invalid_components,
)
from stockflow.bundles.repository import MAX_NESTING, BundleRepository
from stockflow.bundles.schemas import ComponentLine, ComponentRead


class BundleService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = BundleRepository(session)

    async def replace_components(
        self, company_id: int, bundle_id: int, lines: Sequence[ComponentLine]
    ) -> list[ComponentRead]:
        """Make `lines` the bundle's whole contents. The checks that span bundles (cycles,
        nesting depth) run on the applied contents under a per-company lock, so two
        concurrent PUTs cannot together create what neither would alone."""
        await self.repo.lock_company_bundles(company_id)
        is_bundle = await self.repo.lock_product(company_id, bundle_id)
        if is_bundle is None:
            raise bundle_not_found(bundle_id)
        if not is_bundle:
            raise invalid_components(f"Product {bundle_id} is not a bundle (is_bundle is false).")
        self._check_lines(bundle_id, lines)
        wanted = [line.product_id for line in lines]
        missing = sorted(set(wanted) - await self.repo.existing_products(company_id, wanted))
        if missing:
            raise components_not_found(missing)

        await self.repo.replace(
            company_id, bundle_id, [(ln.product_id, ln.quantity) for ln in lines]
        )
        if await self.repo.contains_itself(company_id, bundle_id):
            raise invalid_components(
                f"These components would make bundle {bundle_id} contain itself (a cycle)."
            )
        if await self.repo.longest_path_through(company_id, bundle_id) > MAX_NESTING:
            raise invalid_components(f"Bundles may be nested at most {MAX_NESTING} levels deep.")
        return [
            ComponentRead(product_id=c, quantity=q)
            for c, q in await self.repo.components(company_id, bundle_id)
        ]

    @staticmethod
    def _check_lines(bundle_id: int, lines: Sequence[ComponentLine]) -> None:
        seen: set[int] = set()
        for index, line in enumerate(lines):
            if line.product_id == bundle_id:
                raise invalid_components("A bundle cannot contain itself.", index)
            if line.product_id in seen:
                raise invalid_components(
                    f"Product {line.product_id} is listed twice; give it once with the "
                    "total quantity.",
                    index,
                )
            seen.add(line.product_id)
