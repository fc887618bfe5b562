import { useToastStore } from '@/stores/toasts'
import { formatDate, plural } from '@/utils/format'

/** Every error code the API sends, as a sentence a user can act on (never a field or parameter name). */
export const ERROR_SENTENCES = {
  network: 'The server could not be reached. Check your connection and try again.',
  bad_request: 'The request was not valid. Please check what you entered.',
  validation_error: 'Some of the details are not valid. Please correct the highlighted fields.',
  unauthorized: 'Your session has expired, please sign in again.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'We could not find that. It may have been removed, or it is not yours to see.',
  method_not_allowed: 'That action is not possible here.',
  payload_too_large: 'What you sent is too large.',
  unsupported_media_type: 'That kind of file or request is not accepted.',
  conflict: 'That conflicts with something that changed meanwhile. Please reload and try again.',
  duplicate: 'An account or record with these details already exists.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  service_unavailable: 'The service is busy for a moment. Please try again shortly.',
  internal_error: 'Something went wrong on our side. Please try again.',
  invalid_credentials: 'The username or password is not right.',
  account_blocked: 'This account is blocked. Please contact the hospital.',
  account_locked: 'Too many failed sign-ins: this account is locked for a while. Please try again later.',
  password_change_required: 'Please choose a new password before you continue.',
  totp_enrolment_required: 'Please turn on two-factor sign-in before you continue.',
  totp_required: 'Your account must keep two-factor sign-in on.',
  challenge_invalid: 'The sign-in took too long. Please enter your password again.',
  invalid_code: 'The code is not correct. Enter the current code from your app, or a recovery code.',
  slot_taken: 'Someone has just taken this time. Please choose another one.',
  patient_busy: 'You already have another appointment at this time.',
  already_booked_with_doctor: 'You already have an appointment with this doctor on that day.',
  already_waiting: 'You are already on the waitlist for this doctor and day.',
  already_started: 'This appointment has already started, so it can no longer be changed.',
  beyond_horizon: 'That day is too far ahead to book yet. Please choose an earlier day.',
  slot_in_past: 'That time has already passed. Please choose a later one.',
  slot_unavailable: 'The doctor does not offer that time. Please choose another one.',
  slot_booked: 'A patient is booked at that time. Cancel the appointment first.',
  same_slot: 'The appointment is already at that time.',
  not_a_slot: 'That is not the start of one of your slots.',
  too_early: 'This visit has not started yet.',
  invalid_transition: 'This appointment can no longer be changed that way.',
  invalid_state: 'This appointment has no treatment record to edit.',
  treatment_required: 'Record the treatment with a diagnosis before completing this visit.',
  doctor_unavailable: 'This doctor is not taking appointments at the moment.',
  no_availability: 'The doctor does not work on that day, so no time can open up. Please choose a working day.',
  has_appointments: 'Booked appointments are in the way of this change.',
  doctor_has_bookings: 'This doctor has booked visits ahead. Decide whether to cancel or keep them.',
  has_doctors: 'This department still has doctors. Move or remove them first.',
  not_ready: 'The file is not ready yet. Please wait a moment.',
  export_failed: 'The export failed. Please start it again.',
}

/** Field messages of the validation library, in plain words; our own messages are already sentences. */
const FIELD_PATTERNS = [
  [/^Missing data for required field\.$|^Field may not be null\.$/, () => 'This is required.'],
  [/^Not a valid date\.$/, () => 'Enter a valid date.'],
  [/^Not a valid time\.$/, () => 'Enter a valid time.'],
  [/^Not a valid (integer|number|decimal)\.$/, () => 'Enter a number.'],
  [/^Not a valid (email address|string|boolean)\.$/, () => 'Enter a valid value.'],
  [/^Length must be between (\d+) and (\d+)\.$/, (m) => (m[1] === '1' ? `This is required (at most ${m[2]} characters).` : `Use ${m[1]} to ${m[2]} characters.`)],
  [/^Longer than maximum length (\d+)\.$/, (m) => `Use at most ${m[1]} characters.`],
  [/^Shorter than minimum length (\d+)\.$/, (m) => `Use at least ${m[1]} characters.`],
  [/^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$/, (m) => `Enter a value from ${m[1]} to ${m[2]}.`],
  [/^Must be greater than or equal to (\S+)\.$/, (m) => `Enter ${m[1]} or more.`],
  [/^Must be less than or equal to (\S+)\.$/, (m) => `Enter ${m[1]} or less.`],
  [/^Must be one of: /, () => 'Choose one of the options.'],
  [/^Unknown field\.$/, () => 'This is not expected here.'],
]

export function plainFieldMessage(message) {
  const text = String(message ?? '')
  for (const [pattern, sentence] of FIELD_PATTERNS) {
    const m = text.match(pattern)
    if (m) return sentence(m)
  }
  return text
}

/** The sentence to show for a parsed error: the code's sentence, else the API's own (plain-worded) message. */
export function describeError(parsed) {
  return ERROR_SENTENCES[parsed?.code] || parsed?.message || ERROR_SENTENCES.internal_error
}

/** "Tue 1 Dec 2026 09:00 – Ravi Kumar" lines for appointments an error lists. */
export function bookedList(appointments = []) {
  if (!appointments?.length) return ''
  const lines = appointments.map((a) => `• ${formatDate(a.date)} ${a.start_time} – ${a.patient_name}`)
  return `${plural(appointments.length, 'appointment')}:\n${lines.join('\n')}`
}

/** Flattens {"a": ["x"], "b": {"0": {"c": ["y"]}}} into {"a": "x", "b.0.c": "y"}. */
function flattenFields(fields, prefix = '', out = {}) {
  if (!fields || typeof fields !== 'object') return out
  for (const [key, value] of Object.entries(fields)) {
    const name = prefix ? `${prefix}.${key}` : key
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[name] = [...new Set(value.map(plainFieldMessage))].join(' ')
    else if (typeof value === 'string') out[name] = plainFieldMessage(value)
    else if (Array.isArray(value)) value.forEach((v, i) => flattenFields(v, `${name}.${i}`, out))
    else flattenFields(value, name, out)
  }
  return out
}

/** Turns any failed request into {status, code, message, fields} following the API's error format. */
export function parseApiError(err) {
  const response = err?.response
  if (!response) {
    return { status: 0, code: 'network', message: ERROR_SENTENCES.network, fields: {} }
  }
  const body = response.data?.error
  if (body) {
    const code = body.code || `http_${response.status}`
    const listed = body.fields?.appointments
    const fields = flattenFields(listed ? { ...body.fields, appointments: undefined } : body.fields)
    const message = ERROR_SENTENCES[code] || body.message || 'The request failed.'
    return { status: response.status, code, message, fields, appointments: listed || null }
  }
  const generic = {
    400: 'The request was not valid.',
    401: ERROR_SENTENCES.unauthorized,
    403: 'You are not allowed to do that.',
    404: 'Not found.',
    409: 'That conflicts with the current state. Please reload and try again.',
    429: 'Too many attempts. Please wait a moment and try again.',
  }
  return {
    status: response.status,
    code: `http_${response.status}`,
    message: generic[response.status] || `The server answered with an error (${response.status}).`,
    fields: {},
  }
}

/**
 * The one error helper of the SPA: shows the message as a toast (unless toast: false)
 * and returns {code, message, fields} so a form can show field errors beside its fields.
 */
export function handleApiError(err, { toast = true, prefix = '' } = {}) {
  const parsed = parseApiError(err)
  if (toast && parsed.status !== 401) {
    useToastStore().error(prefix ? `${prefix}: ${parsed.message}` : parsed.message)
  }
  return parsed
}
