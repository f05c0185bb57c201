from stockflow.core.routing import resource_router

router = resource_router(tags=["warehouses"])
