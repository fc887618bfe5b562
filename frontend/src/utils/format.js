/** Dates are handled as local calendar dates 'YYYY-MM-DD' (the hospital's zone is the API's concern). */
export function isoDate(d = new Date()) {
  const y = d.getFullYear()
  const m = String(d.getMonth() + 1).padStart(2, '0')
  const day = String(d.getDate()).padStart(2, '0')
  return `${y}-${m}-${day}`
}

export function parseDate(s) {
  if (!s) return null
  const [y, m, d] = String(s).slice(0, 10).split('-').map(Number)
  return new Date(y, m - 1, d)
}

export function addDays(s, n) {
  const d = typeof s === 'string' ? parseDate(s) : new Date(s)
  d.setDate(d.getDate() + n)
  return isoDate(d)
}

// The hospital's clock: the server's "now" (its offset from this browser's clock) in the hospital's time zone,
// set once from GET /api/settings (stores/hospital.js). Dates and times are never the browser's own.
let hospitalClock = null

export function setHospitalClock({ now, timezone }) {
  hospitalClock = { offsetMs: Date.parse(now) - Date.now(), timeZone: timezone }
}

function hospitalParts() {
  const moment = new Date(Date.now() + (hospitalClock?.offsetMs ?? 0))
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone: hospitalClock?.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  })
  return Object.fromEntries(format.formatToParts(moment).map((p) => [p.type, p.value]))
}

/** Today in the hospital's time zone, 'YYYY-MM-DD'. */
export function today() {
  const p = hospitalParts()
  return `${p.year}-${p.month}-${p.day}`
}

/** The hospital's wall-clock time now, 'HH:MM'. */
export function nowHHMM() {
  const p = hospitalParts()
  return `${p.hour}:${p.minute}`
}

export function currentMonth() {
  return today().slice(0, 7)
}

export function previousMonth() {
  const d = parseDate(today())
  d.setDate(1)
  d.setMonth(d.getMonth() - 1)
  return isoDate(d).slice(0, 7)
}

export function formatDate(s, opts = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }) {
  const d = parseDate(s)
  return d ? d.toLocaleDateString(undefined, opts) : '—'
}

export function shortDate(s) {
  return formatDate(s, { weekday: 'short', day: 'numeric', month: 'short' })
}

export function formatDateTime(s) {
  if (!s) return '—'
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString()
}

export function timeRange(a) {
  if (!a) return ''
  return a.end_time ? `${a.start_time}–${a.end_time}` : a.start_time
}

export function money(v) {
  if (v === null || v === undefined || v === '') return '—'
  const n = Number(v)
  return Number.isNaN(n) ? v : n.toLocaleString(undefined, { minimumFractionDigits: 0, maximumFractionDigits: 2 })
}

export function age(dob) {
  const d = parseDate(dob)
  if (!d) return null
  const now = new Date()
  let a = now.getFullYear() - d.getFullYear()
  if (now.getMonth() < d.getMonth() || (now.getMonth() === d.getMonth() && now.getDate() < d.getDate())) a--
  return a
}

export function titleCase(s) {
  return String(s ?? '').replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase())
}

/** The phase the API gave the appointment (hms/scheduling/rules.py): upcoming while booked and not ended. */
export function isUpcoming(a) {
  return a.phase === 'upcoming'
}

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
export const GENDERS = [
  { value: 'male', label: 'Male' },
  { value: 'female', label: 'Female' },
  { value: 'other', label: 'Other' },
]
export const BLOOD_GROUPS = ['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-']
export const STATUSES = ['booked', 'completed', 'cancelled', 'no_show']
export const VISIT_TYPES = [
  { value: 'in_person', label: 'In person' },
  { value: 'follow_up', label: 'Follow-up' },
  { value: 'emergency', label: 'Emergency' },
  { value: 'tele', label: 'Teleconsultation' },
]
