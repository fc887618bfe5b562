export const PATIENT_FIELDS = [
  'full_name', 'date_of_birth', 'gender', 'phone', 'address', 'blood_group',
  'height_cm', 'weight_kg', 'allergies', 'medical_history', 'emergency_contact',
]

/** An empty (or prefilled) patient profile form. */
export function patientForm(src = {}) {
  const out = {}
  for (const f of PATIENT_FIELDS) out[f] = src[f] ?? ''
  return out
}
