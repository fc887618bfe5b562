"""Monthly report endpoints: a doctor's own report, and any doctor's for admins (audited); HTML or PDF."""

from __future__ import annotations

from flask import Response

from hms.common.api import Blueprint, documents_errors
from hms.common.auth import current_doctor, roles_required
from hms.common.downloads import file_response
from hms.reports import service
from hms.reports.schemas import AdminMonthlyReportArgs, MonthlyReportArgs

doctor_blp = Blueprint("reports_doctor", __name__, url_prefix="/api/doctor/reports", description="Doctor reports")
admin_blp = Blueprint("reports_admin", __name__, url_prefix="/api/admin/reports", description="Doctor reports (admin)")
blueprints: list[Blueprint] = [doctor_blp, admin_blp]

REPORT_RESPONSES = {
    200: {
        "description": "The report: HTML by default, PDF with format=pdf.",
        "content": {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}},
    },
    # PDF printing needs WeasyPrint's system libraries; without them a PDF is refused, the HTML still works.
    **documents_errors(503)["responses"],
}


def _file_response(content: bytes, mimetype: str, filename: str) -> Response:
    response = file_response(content, mimetype=mimetype, filename=filename, inline=mimetype == "text/html")
    if mimetype == "text/html":
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


@doctor_blp.route("/monthly")
@roles_required("doctor")
@doctor_blp.arguments(MonthlyReportArgs, location="query")
@doctor_blp.doc(responses=REPORT_RESPONSES)
def doctor_monthly_report(args: dict) -> Response:
    """The signed-in doctor's report for a month."""
    return _file_response(
        *service.report_document(doctor_id=current_doctor().id, month=args["month"], fmt=args["format"], audited=False)
    )


@admin_blp.route("/monthly")
@roles_required("admin")
@admin_blp.arguments(AdminMonthlyReportArgs, location="query")
@admin_blp.doc(responses=REPORT_RESPONSES)
def admin_monthly_report(args: dict) -> Response:
    """Any doctor's report for a month (audited as report.view)."""
    return _file_response(
        *service.report_document(doctor_id=args["doctor_id"], month=args["month"], fmt=args["format"], audited=True)
    )
