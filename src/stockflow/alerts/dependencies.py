from typing import Annotated

from fastapi import Depends, Request

from stockflow.alerts.service import AlertService
from stockflow.core.auth import CompanyScopeDep
from stockflow.core.database import ReadSessionDep, SessionDep
from stockflow.core.settings import Settings
from stockflow.core.tenancy import scope_to_company


async def get_alert_service(
    request: Request, scope: CompanyScopeDep, session: SessionDep, read_session: ReadSessionDep
) -> AlertService:
    # The app's own settings (not the process-wide cache), so a test app can set its own.
    settings: Settings = request.app.state.settings
    if read_session is not session:
        # The replica's session is not the request's: bind it to the tenant here.
        await scope_to_company(read_session, scope.company_id)
    return AlertService(read_session, settings.default_low_stock_threshold)


AlertServiceDep = Annotated[AlertService, Depends(get_alert_service)]
