from typing import Annotated

from fastapi import Depends, Request

from stockflow.alerts.service import AlertService
from stockflow.core.database import SessionDep
from stockflow.core.settings import Settings


async def get_alert_service(request: Request, session: SessionDep) -> AlertService:
    # The app's own settings (not the process-wide cache), so a test app can set its own.
    settings: Settings = request.app.state.settings
    return AlertService(session, settings.default_low_stock_threshold)


AlertServiceDep = Annotated[AlertService, Depends(get_alert_service)]
