"""The demo hospital as data: departments, doctors, patient names, clinical cases and the accounts it creates with
published passwords. Nothing here touches the database; service.py loads it.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from hms.accounts.passwords import DEMO_ADMIN_PASSWORD, DEMO_DOCTOR_PASSWORD, DEMO_PATIENT_PASSWORD

# Published in the README: production refuses to start while any account still uses one of them (hms.demo.guard).
DEMO_ADMIN = ("admin", DEMO_ADMIN_PASSWORD)
DOCTOR_PASSWORD = DEMO_DOCTOR_PASSWORD
PATIENT_PASSWORD = DEMO_PATIENT_PASSWORD
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


def demo_usernames() -> set[str]:
    """The accounts the demo hospital creates, whose passwords are published."""
    return {DEMO_ADMIN[0], *(f"dr.{doctor[0]}" for doctor in DOCTORS), *(f"patient{n}" for n in range(1, 46))}


STREETS = ["MG Road", "Park Street", "Lake View", "Station Road"]
