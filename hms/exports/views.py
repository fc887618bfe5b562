"""Export endpoints: a patient's async history export and direct CSV/PDF downloads, and the admin's CSV exports."""

from __future__ import annotations

from flask import Response, send_file, stream_with_context
from flask_jwt_extended import current_user

from hms.common.api import Blueprint, documents_errors
from hms.common.auth import roles_required
from hms.common.downloads import file_response
from hms.common.pagination import PageArgs, page_of
from hms.common.security import setting_limit
from hms.exports import service
from hms.exports.schemas import AdminExportCreate, ExportJobRead
from hms.extensions import limiter

patient_blp = Blueprint("exports_patient", __name__, url_prefix="/api/patient/exports", description="My exports")
history_blp = Blueprint("exports_history", __name__, url_prefix="/api/patient/history", description="History downloads")
admin_blp = Blueprint("exports_admin", __name__, url_prefix="/api/admin/exports", description="CSV exports (admin)")
blueprints: list[Blueprint] = [patient_blp, history_blp, admin_blp]

# Every way of taking data out shares one budget per client address.
EXPORT_LIMIT = limiter.shared_limit(setting_limit("rate_limit_exports"), scope="exports")
CSV_RESPONSE = {200: {"description": "CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}}}
# A job that is not finished yet (or failed) has no file: 409.
JOB_FILE_RESPONSE = {**CSV_RESPONSE, **documents_errors(409)["responses"]}
PDF_RESPONSE = {
    200: {"description": "PDF file", "content": {"application/pdf": {"schema": {"type": "string"}}}},
    **documents_errors(503)["responses"],
}


def _csv_file(path, name: str) -> Response:
    response = send_file(path, mimetype="text/csv", as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@patient_blp.route("", methods=["POST"])
@EXPORT_LIMIT
@patient_blp.doc(**documents_errors(429))
@roles_required("patient")
@patient_blp.response(202, ExportJobRead)
def start_patient_export():
    """Start exporting my history as CSV; poll the job until it is done, then download it."""
    return service.start_patient_export(user=current_user)


@patient_blp.route("", methods=["GET"])
@roles_required("patient")
@patient_blp.arguments(PageArgs, location="query")
@patient_blp.response(200, page_of(ExportJobRead))
def list_patient_exports(args: dict):
    """My export jobs, newest first."""
    return service.list_jobs(user=current_user, admin=False, **args)


@patient_blp.route("/<int:job_id>")
@roles_required("patient")
@patient_blp.response(200, ExportJobRead)
def get_patient_export(job_id: int):
    """One of my export jobs (status, and download_url when done)."""
    return service.get_job(user=current_user, job_id=job_id, admin=False)


@patient_blp.route("/<int:job_id>/download")
@roles_required("patient")
@patient_blp.doc(responses=JOB_FILE_RESPONSE)
def download_patient_export(job_id: int) -> Response:
    """The CSV of one of my finished exports."""
    return _csv_file(*service.download(user=current_user, job_id=job_id, admin=False))


@history_blp.route("/export.csv")
@EXPORT_LIMIT
@history_blp.doc(**documents_errors(429))
@roles_required("patient")
@history_blp.doc(responses=CSV_RESPONSE)
def history_csv() -> Response:
    """My whole history as CSV, streamed as it is read."""
    lines, name = service.history_csv(user=current_user)
    return file_response(stream_with_context(lines), mimetype="text/csv", filename=name)


@history_blp.route("/export.pdf")
@EXPORT_LIMIT
@history_blp.doc(**documents_errors(429))
@roles_required("patient")
@history_blp.doc(responses=PDF_RESPONSE)
def history_pdf() -> Response:
    """My whole history as a PDF."""
    content, name = service.history_pdf(user=current_user)
    return file_response(content, mimetype="application/pdf", filename=name)


@admin_blp.route("", methods=["POST"])
@EXPORT_LIMIT
@admin_blp.doc(**documents_errors(429))
@roles_required("admin")
@admin_blp.arguments(AdminExportCreate)
@admin_blp.response(202, ExportJobRead)
def start_admin_export(data: dict):
    """Start a CSV export of appointments or treatments (audited)."""
    return service.start_admin_export(user=current_user, **data)


@admin_blp.route("", methods=["GET"])
@roles_required("admin")
@admin_blp.arguments(PageArgs, location="query")
@admin_blp.response(200, page_of(ExportJobRead))
def list_admin_exports(args: dict):
    """Admin export jobs, newest first."""
    return service.list_jobs(user=current_user, admin=True, **args)


@admin_blp.route("/<int:job_id>")
@roles_required("admin")
@admin_blp.response(200, ExportJobRead)
def get_admin_export(job_id: int):
    """One admin export job."""
    return service.get_job(user=current_user, job_id=job_id, admin=True)


@admin_blp.route("/<int:job_id>/download")
@roles_required("admin")
@admin_blp.doc(responses=JOB_FILE_RESPONSE)
def download_admin_export(job_id: int) -> Response:
    """The CSV of a finished admin export (audited as export.download)."""
    return _csv_file(*service.download(user=current_user, job_id=job_id, admin=True))
