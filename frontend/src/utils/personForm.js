import { MESSAGES, checkEmail, checkProfile } from './validation'
import { PATIENT_FIELDS, patientForm } from './patientForm'

/** The doctor profile fields an admin or the doctor may edit (SPEC §3); department only through the admin. */
export const DOCTOR_FIELDS = [
  'full_name', 'department_id', 'specialization', 'qualifications', 'experience_years', 'consultation_fee',
  'slot_minutes', 'gender', 'phone', 'about',
]

/** An empty (or prefilled) doctor profile form; a new doctor's slots are 30 minutes unless chosen. */
export function doctorForm(src = {}) {
  const out = {}
  for (const f of DOCTOR_FIELDS) out[f] = src[f] ?? ''
  if (out.slot_minutes === '') out.slot_minutes = 30
  return out
}

/** The profile form of a doctor or a patient, so one form component and one check serve both kinds. */
export function personForm(kind, src = {}) {
  return kind === 'doctor' ? doctorForm(src) : patientForm(src)
}

export { PATIENT_FIELDS }

/**
 * Everything the browser can check before sending a person's form, in the server's words: the name, the phone and
 * the date of birth of the profile, the e-mail of the account, and a first password's length when creating.
 */
export function checkPerson(profile, { account = null, creating = false } = {}) {
  const e = { ...checkProfile(profile) }
  if ('full_name' in profile && !String(profile.full_name ?? '').trim()) e.full_name = MESSAGES.required
  if (account && 'email' in account && checkEmail(account.email)) e.email = checkEmail(account.email)
  if (account && creating && 'password' in account && account.password.length < 8) e.password = MESSAGES.passwordShort
  return e
}
