"""Doctor leave in the browser: a doctor records leave over a booked visit; the patient sees the notice on the
appointments page and moves the visit in one click to a time offered."""

from __future__ import annotations

from playwright.sync_api import expect

from .helpers import api, api_token, confirm_address, find_free_slot, items, login, settled, unique


def test_a_doctor_records_leave_and_the_booked_patient_sees_the_notice_and_reschedules(new_page, live_server):
    _, doctor_id, day, start, doctor_name = find_free_slot(live_server, first_day=2)
    admin = api(live_server, api_token(live_server, "admin", "admin123"))
    doctor_username = admin.get(f"/admin/doctors/{doctor_id}").json()["username"]
    username = unique("leave")
    registered = api(live_server).post(
        "/auth/register",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "s3cret-pass",
            "full_name": "Leela Nair",
        },
    )
    assert registered.status_code == 202, registered.text
    confirm_address(username)
    patient = api(live_server, api_token(live_server, username, "s3cret-pass"))
    booked = patient.post("/patient/appointments", json={"doctor_id": doctor_id, "date": day, "start_time": start})
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["id"]

    doctor_page = new_page()
    login(doctor_page, doctor_username, "doctor123", lands_on="/doctor")
    doctor_page.goto("/doctor/availability")
    settled(doctor_page)
    doctor_page.get_by_test_id("leave-start").fill(day)
    doctor_page.get_by_test_id("leave-end").fill(day)
    doctor_page.get_by_test_id("leave-reason").fill("Family event")
    doctor_page.get_by_test_id("leave-save").click()
    expect(doctor_page.locator('[data-testid="toast"][data-variant="success"]')).to_contain_text(
        "1 booked patient was told"
    )
    expect(doctor_page.get_by_test_id("leave-list")).to_contain_text("Family event")

    page = new_page(phone=True)
    login(page, username, "s3cret-pass", lands_on="/patient")
    page.goto(f"/patient/appointments?reschedule={appointment_id}")
    settled(page)
    modal = page.get_by_test_id("reschedule-modal")
    expect(modal).to_be_visible()  # the e-mail's one-click link opens the reschedule dialog of that visit
    page.keyboard.press("Escape")
    expect(modal).to_have_count(0)
    notice = page.get_by_test_id(f"leave-notice-{appointment_id}")
    expect(notice).to_contain_text(f"{doctor_name} is on leave")
    notice.get_by_test_id(f"leave-move-{appointment_id}").first.click()
    expect(page.locator('[data-testid="toast"][data-variant="success"]')).to_contain_text("Moved to")
    expect(page.get_by_test_id(f"leave-notice-{appointment_id}")).to_have_count(0)
    mine = [a for a in items(patient.get("/patient/appointments").json()) if a["status"] == "booked"]
    assert len(mine) == 1 and mine[0]["date"] != day and mine[0]["doctor_id"] == doctor_id
