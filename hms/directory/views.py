"""The public directory (/api/departments, /api/doctors), the admin's people management (/api/admin/...), and a
person's own record: sign-up, /api/auth/me, /api/doctor/profile and /api/patient/profile."""

from __future__ import annotations

from flask_jwt_extended import current_user

from hms.accounts.schemas import MessageRead
from hms.common.api import Blueprint, documents_errors
from hms.common.auth import login_required, roles_required
from hms.common.pagination import page_of
from hms.common.security import setting_limit
from hms.directory import departments, doctors, patients, profiles
from hms.directory.schemas import (
    AdminDoctorArgs,
    AdminPatientArgs,
    DeleteResult,
    DepartmentArgs,
    DepartmentCreate,
    DepartmentDetail,
    DepartmentRead,
    DepartmentUpdate,
    DirectoryArgs,
    DoctorBlockRead,
    DoctorBookingsArgs,
    DoctorCreate,
    DoctorProfileUpdate,
    DoctorPublic,
    DoctorRead,
    DoctorUpdate,
    MeRead,
    PatientCreate,
    PatientProfileUpdate,
    PatientRead,
    PatientUpdate,
    RegisterArgs,
)
from hms.extensions import limiter
from hms.models import Role

public = Blueprint("directory", __name__, url_prefix="/api", description="Public directory of departments and doctors")
admin = Blueprint(
    "admin_people", __name__, url_prefix="/api/admin", description="Admin: departments, doctors, patients"
)
ADMIN = "admin"


# ---- public ------------------------------------------------------------------------------------------------


@public.route("/departments", methods=["GET"])
@public.arguments(DepartmentArgs, location="query")
@public.response(200, page_of(DepartmentRead))
def list_departments(args):
    """Departments with the number of doctors each has."""
    return departments.list_departments(**args)


@public.route("/departments/<int:department_id>", methods=["GET"])
@public.response(200, DepartmentDetail)
def get_department(department_id: int):
    """One department with its doctors."""
    return departments.get_department(department_id=department_id)


@public.route("/doctors", methods=["GET"])
@public.arguments(DirectoryArgs, location="query")
@public.response(200, page_of(DoctorPublic))
def list_doctors(args):
    """Search doctors by name or specialization, department, and a free slot on a date."""
    return doctors.search_doctors(**args)


@public.route("/doctors/<int:doctor_id>", methods=["GET"])
@public.response(200, DoctorPublic)
def get_doctor(doctor_id: int):
    """A doctor's public profile."""
    return doctors.get_public_doctor(doctor_id=doctor_id)


# ---- admin: departments ------------------------------------------------------------------------------------


@admin.route("/departments", methods=["GET"])
@roles_required(ADMIN)
@admin.arguments(DepartmentArgs, location="query")
@admin.response(200, page_of(DepartmentRead))
def admin_list_departments(args):
    """Every department."""
    return departments.admin_list_departments(**args)


@admin.route("/departments", methods=["POST"])
@roles_required(ADMIN)
@admin.arguments(DepartmentCreate)
@admin.response(201, DepartmentRead)
def create_department(data):
    """Add a department (names are unique)."""
    return departments.create_department(data=data)


@admin.route("/departments/<int:department_id>", methods=["PUT"])
@roles_required(ADMIN)
@admin.arguments(DepartmentUpdate)
@admin.response(200, DepartmentRead)
def update_department(data, department_id: int):
    """Rename or describe a department."""
    return departments.update_department(department_id=department_id, data=data)


@admin.route("/departments/<int:department_id>", methods=["DELETE"])
@roles_required(ADMIN)
@admin.response(200, DeleteResult)
def delete_department(department_id: int):
    """Delete a department without doctors (409 has_doctors otherwise)."""
    return departments.delete_department(department_id=department_id)


# ---- admin: doctors ----------------------------------------------------------------------------------------


@admin.route("/doctors", methods=["GET"])
@roles_required(ADMIN)
@admin.arguments(AdminDoctorArgs, location="query")
@admin.response(200, page_of(DoctorRead))
def admin_list_doctors(args):
    """Doctors, searched by name, specialization and department."""
    return doctors.admin_list_doctors(**args)


@admin.route("/doctors", methods=["POST"])
@roles_required(ADMIN)
@admin.arguments(DoctorCreate)
@admin.response(201, DoctorRead)
def create_doctor(data):
    """Create a doctor's account; they must change the temporary password at first sign-in."""
    return doctors.create_doctor(data=data)


@admin.route("/doctors/<int:doctor_id>", methods=["GET"])
@roles_required(ADMIN)
@admin.response(200, DoctorRead)
def admin_get_doctor(doctor_id: int):
    """One doctor, archived ones included."""
    return doctors.admin_get_doctor(doctor_id=doctor_id)


@admin.route("/doctors/<int:doctor_id>", methods=["PUT"])
@roles_required(ADMIN)
@admin.arguments(DoctorUpdate)
@admin.response(200, DoctorRead)
def update_doctor(data, doctor_id: int):
    """Edit a doctor."""
    return doctors.update_doctor(doctor_id=doctor_id, data=data)


@admin.route("/doctors/<int:doctor_id>", methods=["DELETE"])
@roles_required(ADMIN)
@admin.arguments(DoctorBookingsArgs, location="query")
@admin.response(200, DeleteResult)
def delete_doctor(args, doctor_id: int):
    """Delete a doctor; one with history is deactivated instead (409 lists visits ahead until `bookings` is chosen)."""
    return doctors.delete_doctor(doctor_id=doctor_id, actor=current_user, bookings=args.get("bookings"))


@admin.route("/doctors/<int:doctor_id>/block", methods=["POST"])
@roles_required(ADMIN)
@admin.arguments(DoctorBookingsArgs, location="query")
@admin.response(200, DoctorBlockRead)
def block_doctor(args, doctor_id: int):
    """Block a doctor: sign-in ends at once; visits ahead are cancelled or kept (`bookings`), patients told."""
    return doctors.set_doctor_active(
        doctor_id=doctor_id, active=False, actor=current_user, bookings=args.get("bookings")
    )


@admin.route("/doctors/<int:doctor_id>/unblock", methods=["POST"])
@roles_required(ADMIN)
@admin.response(200, DoctorRead)
def unblock_doctor(doctor_id: int):
    """Unblock a doctor."""
    return doctors.set_doctor_active(doctor_id=doctor_id, active=True)


# ---- admin: patients ---------------------------------------------------------------------------------------


@admin.route("/patients", methods=["GET"])
@roles_required(ADMIN)
@admin.arguments(AdminPatientArgs, location="query")
@admin.response(200, page_of(PatientRead))
def admin_list_patients(args):
    """Patients, searched by name, email or phone."""
    return patients.admin_list_patients(**args)


@admin.route("/patients", methods=["POST"])
@roles_required(ADMIN)
@admin.arguments(PatientCreate)
@admin.response(201, PatientRead)
def create_patient(data):
    """Create a patient's account."""
    return patients.create_patient(data=data)


@admin.route("/patients/<int:patient_id>", methods=["GET"])
@roles_required(ADMIN)
@admin.response(200, PatientRead)
def admin_get_patient(patient_id: int):
    """One patient's account and profile."""
    return patients.admin_get_patient(patient_id=patient_id)


@admin.route("/patients/<int:patient_id>", methods=["PUT"])
@roles_required(ADMIN)
@admin.arguments(PatientUpdate)
@admin.response(200, PatientRead)
def update_patient(data, patient_id: int):
    """Edit a patient."""
    return patients.update_patient(patient_id=patient_id, data=data)


@admin.route("/patients/<int:patient_id>", methods=["DELETE"])
@roles_required(ADMIN)
@admin.response(200, DeleteResult)
def delete_patient(patient_id: int):
    """Delete a patient; one with history is deactivated instead, and the answer says so."""
    return patients.delete_patient(patient_id=patient_id)


@admin.route("/patients/<int:patient_id>/block", methods=["POST"])
@roles_required(ADMIN)
@admin.response(200, PatientRead)
def block_patient(patient_id: int):
    """Block a patient: sign-in refused and existing sessions end at once."""
    return patients.set_patient_active(patient_id=patient_id, active=False)


@admin.route("/patients/<int:patient_id>/unblock", methods=["POST"])
@roles_required(ADMIN)
@admin.response(200, PatientRead)
def unblock_patient(patient_id: int):
    """Unblock a patient."""
    return patients.set_patient_active(patient_id=patient_id, active=True)


# ---- a person's own record ---------------------------------------------------------------------------------

# "profile.me" is named in common.auth.PASSWORD_CHANGE_EXEMPT.
profile_blp = Blueprint(
    "profile", __name__, url_prefix="/api", description="Sign-up, the signed-in person and their own profile"
)


@profile_blp.route("/auth/register", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_register"))
@profile_blp.doc(**documents_errors(429))
@profile_blp.arguments(RegisterArgs)
@profile_blp.response(202, MessageRead)
def register(data):
    """Register as a patient. The answer is "check your e-mail" whether or not the address already has an
    account; the account signs in once the link mailed to the address is opened."""
    return profiles.register(data=data)


@profile_blp.route("/auth/me", methods=["GET"])
@login_required
@profile_blp.response(200, MeRead)
def me():
    """The signed-in user with their doctor or patient profile."""
    return profiles.me(user=current_user)


@profile_blp.route("/doctor/profile", methods=["GET"])
@roles_required(Role.DOCTOR.value)
@profile_blp.response(200, DoctorRead)
def doctor_profile():
    """My doctor profile."""
    return profiles.own_profile(user=current_user)


@profile_blp.route("/doctor/profile", methods=["PUT"])
@roles_required(Role.DOCTOR.value)
@profile_blp.arguments(DoctorProfileUpdate)
@profile_blp.response(200, DoctorRead)
def update_doctor_profile(data):
    """Edit my doctor profile (not my department: admins assign it)."""
    return profiles.update_own_doctor_profile(user=current_user, data=data)


@profile_blp.route("/patient/profile", methods=["GET"])
@roles_required(Role.PATIENT.value)
@profile_blp.response(200, PatientRead)
def patient_profile():
    """My patient profile."""
    return profiles.own_profile(user=current_user)


@profile_blp.route("/patient/profile", methods=["PUT"])
@roles_required(Role.PATIENT.value)
@profile_blp.arguments(PatientProfileUpdate)
@profile_blp.response(200, PatientRead)
def update_patient_profile(data):
    """Edit my patient profile and email."""
    return profiles.update_own_patient_profile(user=current_user, data=data)


blueprints: list[Blueprint] = [public, admin, profile_blp]
