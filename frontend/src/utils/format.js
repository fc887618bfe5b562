/**
 * Dates are the hospital's calendar dates 'YYYY-MM-DD' and times its wall-clock 'HH:MM'. "Today", "now" and every
 * timestamp are shown in the hospital's zone (GET /api/settings, loaded by stores/hospital.js), whatever zone the
 * browser is in.
 */
const hospital = { timezone: 'Asia/Kolkata', skewMs: 0, horizonDays: 7 }

/** Called once at start-up (stores/hospital.js) with GET /api/settings, or GET /api/hospital, which gives the same
 *  settings; the server's clock wins over a wrong browser clock. The horizon is the patient's. */
export function setHospitalClock({ timezone, now, booking_horizon_days: horizon } = {}) {
  if (timezone) hospital.timezone = timezone
  const days = typeof horizon === 'object' && horizon !== null ? horizon.patient : horizon
  if (days) hospital.horizonDays = days
  if (now) {
    const server = Date.parse(now)
    if (!Number.isNaN(server)) hospital.skewMs = server - Date.now()
  }
}

export function hospitalTimeZone() {
  return hospital.timezone
}

/** How many days ahead patients may book (HMS_BOOKING_HORIZON_DAYS). */
export function bookingHorizonDays() {
  return hospital.horizonDays
}

function nowInstant() {
  return new Date(Date.now() + hospital.skewMs)
}

/** Calendar parts of an instant in the hospital's zone. */
function hospitalParts(instant) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: hospital.timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(instant)
  const get = (type) => parts.find((p) => p.type === type)?.value
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}` }
}

/** The hospital's wall-clock time now, 'HH:MM'. */
export function nowHHMM() {
  return hospitalParts(nowInstant()).time
}

/** A calendar Date (local midnight) as 'YYYY-MM-DD'; only for dates the SPA already holds as calendar days. */
export function isoDate(d) {
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

/** Today at the hospital, not in the browser's zone. */
export function today() {
  return hospitalParts(nowInstant()).date
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

/** A zoned API timestamp shown as the hospital's local date and time. */
export function formatDateTime(s) {
  if (!s) return '—'
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return s
  return d.toLocaleString(undefined, {
    timeZone: hospital.timezone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  })
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
  const now = parseDate(today())
  let a = now.getFullYear() - d.getFullYear()
  if (now.getMonth() < d.getMonth() || (now.getMonth() === d.getMonth() && now.getDate() < d.getDate())) a--
  return a
}

export function titleCase(s) {
  return String(s ?? '').replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase())
}

/** The phase the API gave the appointment (hms/scheduling/rules.py): upcoming while booked and not ended. */
export function isUpcoming(a) {
  if (a.phase) return a.phase === 'upcoming'
  if (a.status !== 'booked') return false
  const t = today()
  if (a.date > t) return true
  if (a.date < t) return false
  return (a.end_time || a.start_time) > nowHHMM()
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

/** "1 doctor", "3 doctors": the plural rule of the reader's language, not a guessed "s". */
const pluralRules = new Intl.PluralRules('en')
export function plural(count, one, other = `${one}s`) {
  return `${count} ${pluralRules.select(count) === 'one' ? one : other}`
}

/** An amount in minor units (paise, cents) as money, e.g. 50050 INR → "₹500.50"; integers only, never float sums. */
export function formatMoney(minor, currency = 'INR') {
  if (minor === null || minor === undefined) return '—'
  const negative = minor < 0
  const abs = Math.abs(minor)
  const text = new Intl.NumberFormat('en-IN', { style: 'currency', currency, minimumFractionDigits: 2 }).format(Math.trunc(abs / 100) + (abs % 100) / 100)
  return negative ? `−${text}` : text
}

/** "350", "350.5" or "350.50" typed in major units → 35050 minor units, by string, so no float rounding; null if not a sum. */
export function toMinor(text) {
  const match = /^\s*(\d{1,8})(?:[.,](\d{1,2}))?\s*$/.exec(String(text ?? ''))
  if (!match) return null
  return Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'))
}
