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
    ("asha", "Asha Rao", "female", "Interventional Cardiologist", "MBBS, MD, DM (Cardiology)", 18, 900),
    ("vikram", "Vikram Mehta", "male", "Cardiologist", "MBBS, MD (Medicine), DM (Cardiology)", 11, 750),
    ("neha", "Neha Kulkarni", "female", "Neurologist", "MBBS, MD, DM (Neurology)", 14, 850),
    ("arjun", "Arjun Nair", "male", "Epileptologist", "MBBS, DNB (Neurology)", 9, 700),
    ("rahul", "Rahul Deshpande", "male", "Orthopaedic Surgeon", "MBBS, MS (Orthopaedics)", 16, 800),
    (
        "kavya",
        "Kavya Iyer",
        "female",
        "Sports Medicine Specialist",
        "MBBS, MS (Ortho), Fellowship Sports Med",
        7,
        650,
    ),
    ("meera", "Meera Joshi", "female", "Paediatrician", "MBBS, MD (Paediatrics)", 12, 600),
    ("sanjay", "Sanjay Gupta", "male", "Neonatologist", "MBBS, DCH, DNB (Paediatrics)", 20, 700),
    ("priya", "Priya Menon", "female", "Dermatologist", "MBBS, MD (Dermatology)", 10, 600),
    ("farhan", "Farhan Sheikh", "male", "Cosmetic Dermatologist", "MBBS, DVD", 6, 550),
    ("lakshmi", "Lakshmi Subramanian", "female", "Internal Medicine", "MBBS, MD (Medicine)", 22, 500),
    ("rohan", "Rohan Banerjee", "male", "Diabetologist", "MBBS, MD, Fellowship in Diabetes", 8, 500),
    ("anita", "Anita Verma", "female", "ENT Surgeon", "MBBS, MS (ENT)", 15, 650),
    ("karthik", "Karthik Reddy", "male", "Otologist", "MBBS, DLO, DNB (ENT)", 9, 600),
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
# Department name -> the cases its doctors see: the reason a patient gives when booking, what the doctor finds and
# prescribes, and the ages (years) the case fits, so a 4-year-old never has angina and a rash is never a knee.
CLINICAL: dict[str, list[dict[str, Any]]] = {
    "Cardiology": [
        {
            "reason": "High blood pressure readings at home",
            "diagnosis": "Essential hypertension",
            "prescription": "Lifestyle changes and an ACE inhibitor",
            "tests": "ECG, lipid profile, kidney function",
            "precautions": "Low-salt diet, 30 min walk daily",
            "medicines": [("Ramipril", "5 mg", "once daily", 30, "in the morning")],
            "ages": (35, 85),
        },
        {
            "reason": "Chest tightness when climbing stairs",
            "diagnosis": "Stable angina",
            "prescription": "Antiplatelet and statin; nitrate as needed",
            "tests": "Treadmill test, echocardiogram",
            "precautions": "Avoid heavy exertion; carry sublingual nitrate",
            "medicines": [
                ("Aspirin", "75 mg", "once daily", 90, "after food"),
                ("Atorvastatin", "20 mg", "at night", 90, ""),
            ],
            "ages": (45, 85),
        },
        {
            "reason": "Palpitations for a few days",
            "diagnosis": "Sinus tachycardia, anxiety related",
            "prescription": "Reassurance; beta blocker for two weeks",
            "tests": "ECG, thyroid function, Holter monitor",
            "precautions": "Cut down on coffee and tea",
            "medicines": [("Metoprolol", "25 mg", "once daily", 14, "")],
            "ages": (20, 70),
        },
    ],
    "Neurology": [
        {
            "reason": "Recurring headaches with nausea",
            "diagnosis": "Migraine without aura",
            "prescription": "Triptan for attacks, prophylaxis started",
            "tests": "MRI brain if red flags",
            "precautions": "Regular sleep, headache diary",
            "medicines": [
                ("Sumatriptan", "50 mg", "at onset, max 2/day", 10, "with water"),
                ("Propranolol", "40 mg", "twice daily", 60, ""),
            ],
            "ages": (16, 60),
        },
        {
            "reason": "Tingling and burning in both feet",
            "diagnosis": "Peripheral neuropathy",
            "prescription": "Vitamin B12 and pain relief",
            "tests": "Nerve conduction study, B12 level, HbA1c",
            "precautions": "Foot care, check feet daily",
            "medicines": [("Pregabalin", "75 mg", "at night", 30, "may cause drowsiness")],
            "ages": (40, 85),
        },
    ],
    "Orthopaedics": [
        {
            "reason": "Lower back pain after lifting",
            "diagnosis": "Lumbar strain",
            "prescription": "Analgesics and physiotherapy",
            "tests": "X-ray lumbar spine",
            "precautions": "Avoid lifting weights for two weeks",
            "medicines": [("Paracetamol", "650 mg", "three times daily", 5, "after food")],
            "ages": (20, 65),
        },
        {
            "reason": "Knee pain when walking",
            "diagnosis": "Osteoarthritis of knee",
            "prescription": "Analgesic, quadriceps exercises",
            "tests": "X-ray both knees standing",
            "precautions": "Weight reduction, avoid squatting",
            "medicines": [("Diclofenac gel", "thin layer", "twice daily", 14, "external use")],
            "ages": (45, 85),
        },
        {
            "reason": "Twisted ankle playing football",
            "diagnosis": "Lateral ankle sprain, grade 1",
            "prescription": "Rest, ice, compression, elevation; analgesic",
            "tests": "X-ray ankle to rule out fracture",
            "precautions": "Ankle brace for two weeks",
            "medicines": [("Ibuprofen", "400 mg", "three times daily", 5, "after food")],
            "ages": (12, 45),
        },
    ],
    "Paediatrics": [
        {
            "reason": "Fever since two days",
            "diagnosis": "Acute viral fever",
            "prescription": "Antipyretic and fluids",
            "tests": "CBC if fever persists beyond 3 days",
            "precautions": "Plenty of fluids, sponge if above 39 °C",
            "medicines": [("Paracetamol syrup", "15 mg/kg", "every 6 hours as needed", 3, "")],
            "ages": (1, 14),
        },
        {
            "reason": "Runny nose and cough",
            "diagnosis": "Upper respiratory tract infection",
            "prescription": "Symptomatic care",
            "tests": "None",
            "precautions": "Steam inhalation, saline nasal drops",
            "medicines": [("Saline nasal drops", "2 drops", "four times daily", 5, "each nostril")],
            "ages": (1, 14),
        },
        {
            "reason": "Routine growth and vaccination check",
            "diagnosis": "Healthy child; vaccinations up to date",
            "prescription": "Booster dose given as per schedule",
            "tests": "None",
            "precautions": "Next vaccination as per the card",
            "medicines": [],
            "ages": (1, 12),
        },
    ],
    "Dermatology": [
        {
            "reason": "Itchy dry patches on the arms",
            "diagnosis": "Atopic dermatitis",
            "prescription": "Emollients and a mild topical steroid",
            "tests": "None",
            "precautions": "Avoid hot showers and harsh soaps",
            "medicines": [("Hydrocortisone cream 1%", "thin layer", "twice daily", 7, "")],
            "ages": (2, 70),
        },
        {
            "reason": "Pimples on the face",
            "diagnosis": "Acne vulgaris",
            "prescription": "Topical retinoid and benzoyl peroxide",
            "tests": "None",
            "precautions": "Do not squeeze lesions; sunscreen daily",
            "medicines": [("Adapalene gel 0.1%", "pea-sized", "at night", 60, "")],
            "ages": (13, 30),
        },
        {
            "reason": "Red itchy ring-shaped rash",
            "diagnosis": "Tinea corporis",
            "prescription": "Topical antifungal",
            "tests": "KOH mount of skin scraping",
            "precautions": "Keep skin dry; do not share towels",
            "medicines": [("Clotrimazole cream 1%", "thin layer", "twice daily", 21, "beyond the edge of the rash")],
            "ages": (5, 75),
        },
    ],
    "General Medicine": [
        {
            "reason": "Increased thirst and frequent urination",
            "diagnosis": "Type 2 diabetes mellitus",
            "prescription": "Metformin, diet counselling",
            "tests": "HbA1c, fasting glucose, kidney function",
            "precautions": "Carbohydrate-controlled diet, daily exercise",
            "medicines": [("Metformin", "500 mg", "twice daily", 90, "with meals")],
            "ages": (30, 85),
        },
        {
            "reason": "Tiredness and weight gain",
            "diagnosis": "Hypothyroidism",
            "prescription": "Levothyroxine replacement",
            "tests": "TSH after 6 weeks",
            "precautions": "Take tablet on an empty stomach",
            "medicines": [("Levothyroxine", "50 mcg", "once daily", 90, "before breakfast")],
            "ages": (20, 80),
        },
        {
            "reason": "Fever and body ache",
            "diagnosis": "Acute viral fever",
            "prescription": "Antipyretic, rest and fluids",
            "tests": "CBC, dengue NS1 if fever persists",
            "precautions": "Plenty of fluids; return if bleeding or rash",
            "medicines": [("Paracetamol", "650 mg", "every 6 hours as needed", 3, "")],
            "ages": (15, 85),
        },
    ],
    "ENT": [
        {
            "reason": "Blocked nose and facial pain",
            "diagnosis": "Acute sinusitis",
            "prescription": "Decongestant and antibiotic",
            "tests": "None",
            "precautions": "Steam inhalation twice daily",
            "medicines": [
                ("Amoxicillin-clavulanate", "625 mg", "twice daily", 7, "after food"),
                ("Xylometazoline nasal spray", "1 puff", "twice daily", 5, ""),
            ],
            "ages": (16, 75),
        },
        {
            "reason": "Dizziness when turning in bed",
            "diagnosis": "Benign paroxysmal positional vertigo",
            "prescription": "Repositioning manoeuvre done; vestibular exercises",
            "tests": "Audiometry",
            "precautions": "Rise slowly from bed",
            "medicines": [("Betahistine", "16 mg", "three times daily", 14, "")],
            "ages": (35, 85),
        },
        {
            "reason": "Sore throat and pain on swallowing",
            "diagnosis": "Acute tonsillitis",
            "prescription": "Antibiotic and warm saline gargles",
            "tests": "Throat swab if recurrent",
            "precautions": "Soft diet and warm fluids",
            "medicines": [("Amoxicillin", "500 mg", "three times daily", 5, "complete the course")],
            "ages": (5, 40),
        },
    ],
}
CHILDREN = 9  # of the 45 demo patients, so the paediatricians have patients of their own


def _age(born: date | None, today: date) -> int:
    if born is None:
        return 0
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


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
            username="admin",
            email="admin@hospital.local",
            password_hash=hashes["admin"],
            role=Role.ADMIN.value,
            email_verified_at=clock.utcnow_naive(),  # the demo's addresses count as verified (their mail stays local)
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
                email_verified_at=clock.utcnow_naive(),
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
                    phone=f"+91804000{1000 + index:04d}",
                    gender=gender,
                    about=f"Dr. {full_name} has {years} years of experience in {department.name}.",
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
                email_verified_at=clock.utcnow_naive(),
                created_at=joined,
            )
            patients.append(
                Patient(
                    user=user,
                    full_name=f"{first} {last}",
                    date_of_birth=today
                    - timedelta(
                        days=rng.randint(365, 13 * 365) if number <= CHILDREN else rng.randint(18 * 365, 82 * 365)
                    ),
                    gender="female" if number % 2 == 0 else "male",
                    phone=f"+9198{rng.randint(10000000, 99999999)}",
                    address=f"{rng.randint(1, 300)}, {rng.choice(STREETS)}",
                    blood_group=rng.choice(["A+", "A-", "B+", "B-", "AB+", "O+", "O-"]),
                    height_cm=rng.randint(75, 150) if number <= CHILDREN else rng.randint(150, 185),
                    weight_kg=rng.randint(9, 40) if number <= CHILDREN else rng.randint(50, 90),
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
    cases: dict[int, dict[str, Any]] = {}

    ages = {patient.id: _age(patient.date_of_birth, today) for patient in patients}

    def place(days: list[date], status: str, starts: list[time] = slots) -> Appointment | None:
        for _attempt in range(50):
            doctor = rng.choice(doctors)
            case = rng.choice(CLINICAL[department_of[doctor.id]])
            low, high = case["ages"]
            fitting = [p for p in patients if low <= ages[p.id] <= high]
            if not fitting:
                continue
            patient, day, start = rng.choice(fitting), rng.choice(days), rng.choice(starts)
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
                reason=case["reason"],
                created_at=min(created, now),
                updated_at=min(created, now),
            )
            appointments.append(appointment)
            cases[id(appointment)] = case
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
                treatments.append(_treatment(rng, appointment, case=cases[id(appointment)]))
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


def _treatment(rng: random.Random, appointment: Appointment, *, case: dict[str, Any]) -> Treatment:
    """The record of the case the visit was booked for: its diagnosis, tests and medicines."""
    visit_end = datetime.combine(appointment.date, appointment.end_time)
    treatment = Treatment(
        diagnosis=case["diagnosis"],
        prescription=case["prescription"],
        notes=f"Presented with: {case['reason'].lower()}. Vitals stable.",
        visit_type=rng.choice(["in_person", "in_person", "in_person", "follow_up", "tele"]),
        tests_ordered=case["tests"],
        precautions=case["precautions"],
        follow_up_date=appointment.date + timedelta(days=rng.choice([14, 30, 60])) if rng.random() < 0.5 else None,
        medicines=[
            {"name": name, "dose": dose, "frequency": frequency, "duration_days": days, "instructions": notes}
            for name, dose, frequency, days, notes in case["medicines"]
        ],
        created_at=visit_end,
        updated_at=visit_end,
    )
    treatment.appointment = appointment
    return treatment
