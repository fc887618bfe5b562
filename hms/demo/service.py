"""A believable demo hospital, all dates relative to today, inserted in bulk in a few seconds."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select

from hms.accounts.passwords import hash_password
from hms.audit.service import record
from hms.common import clock
from hms.common.cache import invalidate
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Appointment,
    AvailabilityWindow,
    Department,
    Doctor,
    Patient,
    Role,
    Treatment,
    User,
)

DEMO_ADMIN = ("admin", "admin123")
DOCTOR_PASSWORD = "doctor123"
PATIENT_PASSWORD = "patient123"
# Published in the README: production refuses to start while any account still uses one of them.
KNOWN_DEMO_PASSWORDS = (DEMO_ADMIN[1], DOCTOR_PASSWORD, PATIENT_PASSWORD)
WINDOWS = ((time(9, 0), time(13, 0)), (time(16, 0), time(19, 0)))
SLOT_MINUTES = 30
PAST_DAYS, FUTURE_DAYS = 60, 14

DEPARTMENTS = [
    ("Cardiology", "Heart and blood vessels: chest pain, hypertension, heart failure, rhythm disorders."),
    ("Neurology", "Brain, spine and nerves: headache, epilepsy, stroke follow-up, neuropathy."),
    ("Orthopaedics", "Bones, joints and muscles: fractures, back pain, arthritis, sports injuries."),
    ("Paediatrics", "Children from birth to 16: growth, vaccination, fevers and infections."),
    ("Dermatology", "Skin, hair and nails: eczema, acne, psoriasis, infections."),
    ("General Medicine", "First consultation for adults: fever, diabetes, thyroid, general check-ups."),
    ("ENT", "Ear, nose and throat: sinusitis, hearing loss, tonsillitis, vertigo."),
]

# (username suffix, full name, gender, specialization, qualifications, years, fee) for two doctors per department
DOCTORS = [
    ("asha", "Dr. Asha Rao", "female", "Interventional Cardiologist", "MBBS, MD, DM (Cardiology)", 18, 900),
    ("vikram", "Dr. Vikram Mehta", "male", "Cardiologist", "MBBS, MD (Medicine), DM (Cardiology)", 11, 750),
    ("neha", "Dr. Neha Kulkarni", "female", "Neurologist", "MBBS, MD, DM (Neurology)", 14, 850),
    ("arjun", "Dr. Arjun Nair", "male", "Epileptologist", "MBBS, DNB (Neurology)", 9, 700),
    ("rahul", "Dr. Rahul Deshpande", "male", "Orthopaedic Surgeon", "MBBS, MS (Orthopaedics)", 16, 800),
    (
        "kavya",
        "Dr. Kavya Iyer",
        "female",
        "Sports Medicine Specialist",
        "MBBS, MS (Ortho), Fellowship Sports Med",
        7,
        650,
    ),
    ("meera", "Dr. Meera Joshi", "female", "Paediatrician", "MBBS, MD (Paediatrics)", 12, 600),
    ("sanjay", "Dr. Sanjay Gupta", "male", "Neonatologist", "MBBS, DCH, DNB (Paediatrics)", 20, 700),
    ("priya", "Dr. Priya Menon", "female", "Dermatologist", "MBBS, MD (Dermatology)", 10, 600),
    ("farhan", "Dr. Farhan Sheikh", "male", "Cosmetic Dermatologist", "MBBS, DVD", 6, 550),
    ("lakshmi", "Dr. Lakshmi Subramanian", "female", "Internal Medicine", "MBBS, MD (Medicine)", 22, 500),
    ("rohan", "Dr. Rohan Banerjee", "male", "Diabetologist", "MBBS, MD, Fellowship in Diabetes", 8, 500),
    ("anita", "Dr. Anita Verma", "female", "ENT Surgeon", "MBBS, MS (ENT)", 15, 650),
    ("karthik", "Dr. Karthik Reddy", "male", "Otologist", "MBBS, DLO, DNB (ENT)", 9, 600),
]

FIRST_NAMES = [
    "Aarav",
    "Vivaan",
    "Aditya",
    "Ishaan",
    "Reyansh",
    "Ananya",
    "Diya",
    "Saanvi",
    "Aadhya",
    "Kiara",
    "Rohit",
    "Sneha",
    "Manish",
    "Pooja",
    "Suresh",
    "Lata",
    "Imran",
    "Fatima",
    "John",
    "Mary",
    "Harpreet",
    "Gurpreet",
    "Deepak",
    "Kavita",
    "Nikhil",
    "Swati",
    "Ramesh",
    "Geeta",
    "Tarun",
    "Anjali",
    "Varun",
    "Nisha",
    "Prakash",
    "Rekha",
    "Siddharth",
    "Bhavna",
    "Ajay",
    "Shalini",
    "Mohan",
    "Usha",
    "Kunal",
    "Ritu",
    "Naveen",
    "Seema",
    "Abhishek",
]
LAST_NAMES = ["Sharma", "Patel", "Singh", "Khan", "Das", "Pillai", "Chatterjee", "Fernandes", "Bose", "Yadav"]
REASONS = [
    "Follow-up visit",
    "Persistent cough for a week",
    "Routine check-up",
    "Pain since last week",
    "Review of test results",
    "Recurring headaches",
    "Skin rash",
    "Fever and body ache",
    "Second opinion",
]

# Department name -> [(diagnosis, prescription, tests, precautions, [medicines])]
CLINICAL = {
    "Cardiology": [
        (
            "Essential hypertension",
            "Lifestyle changes and an ACE inhibitor",
            "ECG, lipid profile",
            "Low-salt diet, 30 min walk daily",
            [("Ramipril", "5 mg", "once daily", 30, "in the morning")],
        ),
        (
            "Stable angina",
            "Antiplatelet and statin; nitrate as needed",
            "Treadmill test, echocardiogram",
            "Avoid heavy exertion; carry sublingual nitrate",
            [("Aspirin", "75 mg", "once daily", 90, "after food"), ("Atorvastatin", "20 mg", "at night", 90, "")],
        ),
    ],
    "Neurology": [
        (
            "Migraine without aura",
            "Triptan for attacks, prophylaxis started",
            "MRI brain if red flags",
            "Regular sleep, headache diary",
            [
                ("Sumatriptan", "50 mg", "at onset, max 2/day", 10, "with water"),
                ("Propranolol", "40 mg", "twice daily", 60, ""),
            ],
        ),
        (
            "Peripheral neuropathy",
            "Vitamin B12 and pain relief",
            "Nerve conduction study, B12 level",
            "Foot care, check feet daily",
            [("Pregabalin", "75 mg", "at night", 30, "may cause drowsiness")],
        ),
    ],
    "Orthopaedics": [
        (
            "Lumbar strain",
            "Analgesics and physiotherapy",
            "X-ray lumbar spine",
            "Avoid lifting weights for two weeks",
            [("Paracetamol", "650 mg", "three times daily", 5, "after food")],
        ),
        (
            "Osteoarthritis of knee",
            "Analgesic, quadriceps exercises",
            "X-ray both knees standing",
            "Weight reduction, avoid squatting",
            [("Diclofenac gel", "thin layer", "twice daily", 14, "external use")],
        ),
    ],
    "Paediatrics": [
        (
            "Acute viral fever",
            "Antipyretic and fluids",
            "CBC if fever persists beyond 3 days",
            "Plenty of fluids, sponge if above 39 °C",
            [("Paracetamol syrup", "15 mg/kg", "every 6 hours as needed", 3, "")],
        ),
        (
            "Upper respiratory tract infection",
            "Symptomatic care",
            "None",
            "Steam inhalation, saline nasal drops",
            [("Saline nasal drops", "2 drops", "four times daily", 5, "each nostril")],
        ),
    ],
    "Dermatology": [
        (
            "Atopic dermatitis",
            "Emollients and a mild topical steroid",
            "None",
            "Avoid hot showers and harsh soaps",
            [("Hydrocortisone cream 1%", "thin layer", "twice daily", 7, "")],
        ),
        (
            "Acne vulgaris",
            "Topical retinoid and benzoyl peroxide",
            "None",
            "Do not squeeze lesions; sunscreen daily",
            [("Adapalene gel 0.1%", "pea-sized", "at night", 60, "")],
        ),
    ],
    "General Medicine": [
        (
            "Type 2 diabetes mellitus",
            "Metformin, diet counselling",
            "HbA1c, fasting glucose, kidney function",
            "Carbohydrate-controlled diet, daily exercise",
            [("Metformin", "500 mg", "twice daily", 90, "with meals")],
        ),
        (
            "Hypothyroidism",
            "Levothyroxine replacement",
            "TSH after 6 weeks",
            "Take tablet on an empty stomach",
            [("Levothyroxine", "50 mcg", "once daily", 90, "before breakfast")],
        ),
    ],
    "ENT": [
        (
            "Acute sinusitis",
            "Decongestant and antibiotic",
            "None",
            "Steam inhalation twice daily",
            [
                ("Amoxicillin-clavulanate", "625 mg", "twice daily", 7, "after food"),
                ("Xylometazoline nasal spray", "1 puff", "twice daily", 5, ""),
            ],
        ),
        (
            "Benign paroxysmal positional vertigo",
            "Repositioning manoeuvre done; vestibular exercises",
            "Audiometry",
            "Rise slowly from bed",
            [("Betahistine", "16 mg", "three times daily", 14, "")],
        ),
    ],
}


def demo_usernames() -> set[str]:
    """The accounts the demo hospital creates, whose passwords are published."""
    return {DEMO_ADMIN[0], *(f"dr.{doctor[0]}" for doctor in DOCTORS), *(f"patient{n}" for n in range(1, 46))}


def _demo_admin_exists() -> bool:
    return db.session.execute(select(User.id).where(User.username == DEMO_ADMIN[0])).first() is not None


def _slots() -> list[time]:
    starts = []
    for start, end in WINDOWS:
        moment = datetime.combine(date.min, start)
        while (moment + timedelta(minutes=SLOT_MINUTES)).time() <= end:
            starts.append(moment.time())
            moment += timedelta(minutes=SLOT_MINUTES)
    return starts


def _end(start: time) -> time:
    return (datetime.combine(date.min, start) + timedelta(minutes=SLOT_MINUTES)).time()


def _working_days(today: date, first: int, last: int) -> list[date]:
    """Mon-Sat dates from today+first to today+last inclusive."""
    days = (today + timedelta(days=n) for n in range(first, last + 1))
    return [day for day in days if day.weekday() < 6]


STREETS = ["MG Road", "Park Street", "Lake View", "Station Road"]


def load_demo_data(*, seed: int = 42) -> dict[str, Any]:
    """Create the demo hospital unless the demo admin already exists; returns counts and a message."""
    if current_app.config["HMS"].is_production:
        raise RuntimeError("The demo hospital (published passwords) is never loaded with HMS_ENV=production.")
    with unit_of_work():
        if _demo_admin_exists():
            return {"created": False, "message": "Demo data already present (user 'admin' exists): nothing to do."}
        rng = random.Random(seed)
        today = clock.today_local()
        now = clock.utcnow_naive()
        settings = current_app.config["HMS"]

        admin_password = settings.admin_password or DEMO_ADMIN[1]
        hashes = {
            "admin": hash_password(admin_password),
            "doctor": hash_password(DOCTOR_PASSWORD),
            "patient": hash_password(PATIENT_PASSWORD),
        }
        admin = User(
            username="admin", email="admin@hospital.local", password_hash=hashes["admin"], role=Role.ADMIN.value
        )
        db.session.add(admin)

        departments = {name: Department(name=name, description=text) for name, text in DEPARTMENTS}
        db.session.add_all(departments.values())

        doctors: list[Doctor] = []
        for index, (handle, full_name, gender, specialization, qualifications, years, fee) in enumerate(DOCTORS):
            department = departments[DEPARTMENTS[index // 2][0]]
            user = User(
                username=f"dr.{handle}",
                email=f"dr.{handle}@hospital.local",
                password_hash=hashes["doctor"],
                role=Role.DOCTOR.value,
                created_at=now - timedelta(days=200),
            )
            doctors.append(
                Doctor(
                    user=user,
                    full_name=full_name,
                    department=department,
                    specialization=specialization,
                    qualifications=qualifications,
                    experience_years=years,
                    consultation_fee=fee,
                    phone=f"+91 80 4000 {1000 + index:04d}",
                    gender=gender,
                    about=f"{full_name} has {years} years of experience in {department.name}.",
                    slot_minutes=SLOT_MINUTES,
                    created_at=now - timedelta(days=200),
                )
            )
        db.session.add_all(doctors)

        patients: list[Patient] = []
        for number in range(1, 46):
            first = FIRST_NAMES[number - 1]
            last = LAST_NAMES[number % len(LAST_NAMES)]
            joined = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
            user = User(
                username=f"patient{number}",
                email=f"patient{number}@example.org",
                password_hash=hashes["patient"],
                role=Role.PATIENT.value,
                created_at=joined,
            )
            patients.append(
                Patient(
                    user=user,
                    full_name=f"{first} {last}",
                    date_of_birth=today - timedelta(days=rng.randint(2 * 365, 80 * 365)),
                    gender="female" if number % 2 == 0 else "male",
                    phone=f"+91 98{rng.randint(10000000, 99999999)}",
                    address=f"{rng.randint(1, 300)}, {rng.choice(STREETS)}",
                    blood_group=rng.choice(["A+", "A-", "B+", "B-", "AB+", "O+", "O-"]),
                    height_cm=rng.randint(150, 185),
                    weight_kg=rng.randint(50, 90),
                    allergies=rng.choice([None, None, "Penicillin", "Dust", "Peanuts"]),
                    emergency_contact=f"{rng.choice(FIRST_NAMES)} {last}, +91 97{rng.randint(10000000, 99999999)}",
                    created_at=joined,
                )
            )
        db.session.add_all(patients)
        db.session.flush()

        windows = [
            {"doctor_id": doctor.id, "date": day, "start_time": start, "end_time": end}
            for doctor in doctors
            for day in _working_days(today, -PAST_DAYS, FUTURE_DAYS)
            for start, end in WINDOWS
        ]
        db.session.execute(insert(AvailabilityWindow), windows)

        appointments, treatments = _appointments(rng, today=today, now=now, doctors=doctors, patients=patients)
        record(action="demo_data_loaded", entity="system", details={"appointments": len(appointments)}, actor=admin)
    invalidate("directory")
    return {
        "created": True,
        "departments": len(departments),
        "doctors": len(doctors),
        "patients": len(patients),
        "availability_windows": len(windows),
        "appointments": len(appointments),
        "treatments": len(treatments),
        "message": (
            f"Demo data loaded: {len(departments)} departments, {len(doctors)} doctors, {len(patients)} patients, "
            f"{len(appointments)} appointments, {len(treatments)} treatments."
        ),
    }


def _appointments(
    rng: random.Random, *, today: date, now: datetime, doctors: list[Doctor], patients: list[Patient]
) -> tuple[list[Appointment], list[Treatment]]:
    """~150 past visits (completed, cancelled, no-show) and ~40 booked ones, honouring the unique indexes."""
    slots = _slots()
    department_of = {d.id: d.department.name if d.department else "General Medicine" for d in doctors}
    # Stricter than the indexes (no status shares a slot), so the demo never looks double-booked.
    taken_slots: set[tuple[int, date, time]] = set()
    patient_doctor_day: set[tuple[int, int, date]] = set()
    patient_slot: set[tuple[int, date, time]] = set()  # a patient is never in two rooms at once
    appointments: list[Appointment] = []
    treatments: list[Treatment] = []

    def place(days: list[date], status: str, starts: list[time] = slots) -> Appointment | None:
        for _attempt in range(50):
            doctor, patient, day, start = (
                rng.choice(doctors),
                rng.choice(patients),
                rng.choice(days),
                rng.choice(starts),
            )
            if (
                (doctor.id, day, start) in taken_slots
                or (patient.id, doctor.id, day) in patient_doctor_day
                or (patient.id, day, start) in patient_slot
            ):
                continue
            taken_slots.add((doctor.id, day, start))
            patient_doctor_day.add((patient.id, doctor.id, day))
            patient_slot.add((patient.id, day, start))
            created = datetime.combine(day, start) - timedelta(days=rng.randint(1, 6), hours=rng.randint(1, 8))
            appointment = Appointment(
                patient_id=patient.id,
                doctor_id=doctor.id,
                date=day,
                start_time=start,
                end_time=_end(start),
                status=status,
                reason=rng.choice(REASONS),
                created_at=min(created, now),
                updated_at=min(created, now),
            )
            appointments.append(appointment)
            return appointment
        return None

    past = _working_days(today, -PAST_DAYS, -1)
    upcoming = _working_days(today, 1, 7)
    for status, count in (("completed", 112), ("cancelled", 20), ("no_show", 18)):
        for _ in range(count):
            appointment = place(past, status)
            if appointment is None:
                continue
            visit_end = datetime.combine(appointment.date, appointment.end_time)
            appointment.updated_at = visit_end
            if status == "completed":
                appointment.completed_at = visit_end
                department = department_of[appointment.doctor_id]
                treatments.append(_treatment(rng, appointment, department=department))
            elif status == "cancelled":
                appointment.cancelled_by = rng.choice(["patient", "patient", "doctor"])
                appointment.cancelled_at = appointment.created_at + timedelta(hours=6)
                appointment.updated_at = appointment.cancelled_at
                appointment.cancel_reason = rng.choice(["Travelling", "Feeling better", "Doctor unavailable"])
    working_today = today.weekday() < 6
    now_time = clock.now_local().time()
    later_today = [start for start in slots if start > now_time] if working_today else []
    # Patients in the waiting room: visits of today that have started and are still booked, so a doctor trying
    # the demo can write a treatment and complete a visit at once.
    started_today = [start for start in slots if start <= now_time] if working_today else []
    for index in range(40):
        if index < 6 and later_today:  # a few visits still to come today, for the doctors' dashboards
            place([today], "booked", later_today)
        elif index < 9 and started_today:
            place([today], "booked", started_today)
        else:
            place(upcoming, "booked")
    db.session.add_all(appointments)
    db.session.add_all(treatments)
    db.session.flush()
    return appointments, treatments


def _treatment(rng: random.Random, appointment: Appointment, *, department: str) -> Treatment:
    diagnosis, prescription, tests, precautions, medicines = rng.choice(CLINICAL[department])
    visit_end = datetime.combine(appointment.date, appointment.end_time)
    treatment = Treatment(
        diagnosis=diagnosis,
        prescription=prescription,
        notes=f"Patient seen for: {(appointment.reason or 'consultation').lower()}. Vitals stable.",
        visit_type=rng.choice(["in_person", "in_person", "in_person", "follow_up", "tele"]),
        tests_ordered=tests,
        precautions=precautions,
        follow_up_date=appointment.date + timedelta(days=rng.choice([14, 30, 60])) if rng.random() < 0.5 else None,
        medicines=[
            {"name": name, "dose": dose, "frequency": frequency, "duration_days": days, "instructions": notes}
            for name, dose, frequency, days, notes in medicines
        ],
        created_at=visit_end,
        updated_at=visit_end,
    )
    treatment.appointment = appointment
    return treatment
