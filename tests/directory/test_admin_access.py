"""Every admin route of people management: no token 401, patient and doctor 403, admin allowed."""

from __future__ import annotations

import pytest

from tests.factories import AdminFactory, DepartmentFactory, DoctorFactory, PatientFactory

# Each route with the one status an admin gets for an empty body: creating needs fields (422); an empty edit
# changes nothing (200); the department, doctor and patient of the fixture have no history, so DELETE deletes.
ROUTES = [
    ("get", "/api/admin/departments", 200),
    ("post", "/api/admin/departments", 422),
    ("put", "/api/admin/departments/{department}", 200),
    ("delete", "/api/admin/departments/{department}", 200),
    ("get", "/api/admin/doctors", 200),
    ("post", "/api/admin/doctors", 422),
    ("get", "/api/admin/doctors/{doctor}", 200),
    ("put", "/api/admin/doctors/{doctor}", 200),
    ("delete", "/api/admin/doctors/{doctor}", 200),
    ("post", "/api/admin/doctors/{doctor}/block", 200),
    ("post", "/api/admin/doctors/{doctor}/unblock", 200),
    ("get", "/api/admin/patients", 200),
    ("post", "/api/admin/patients", 422),
    ("get", "/api/admin/patients/{patient}", 200),
    ("put", "/api/admin/patients/{patient}", 200),
    ("delete", "/api/admin/patients/{patient}", 200),
    ("post", "/api/admin/patients/{patient}/block", 200),
    ("post", "/api/admin/patients/{patient}/unblock", 200),
]
PATHS = [(method, path) for method, path, _status in ROUTES]


@pytest.fixture
def people():
    return {"department": DepartmentFactory(), "doctor": DoctorFactory(), "patient": PatientFactory()}


def _call(client, method, path, people, headers=None):
    url = path.format(department=people["department"].id, doctor=people["doctor"].id, patient=people["patient"].id)
    return getattr(client, method)(url, headers=headers or {}, json={} if method in ("post", "put") else None)


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_admin_route_needs_a_token(client, people, method, path):
    response = _call(client, method, path, people)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_admin_route_is_forbidden_to_patients_and_doctors(client, auth, people, method, path):
    for user in (people["patient"].user, people["doctor"].user):
        response = _call(client, method, path, people, headers=auth(user))
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "status"), ROUTES)
def test_admin_route_is_open_to_admins(client, auth, people, method, path, status):
    response = _call(client, method, path, people, headers=auth(AdminFactory()))
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert response.get_json()["error"]["fields"]
