import { today } from './format'

/**
 * The server's profile rules (hms/common/validation.py) mirrored in the forms, in the same words, so a user sees
 * every problem at once before sending. The server stays the judge: its field errors are shown the same way.
 */
export const MESSAGES = {
  required: 'This is required.',
  email: 'Enter a valid e-mail address, for example name@example.com.',
  phone: 'Enter a valid phone number, for example +91 98765 43210.',
  dobFuture: 'The date of birth cannot be in the future.',
  dobTooOld: 'The date of birth cannot be more than 130 years ago.',
  passwordShort: 'Use at least 8 characters.',
  passwordIsUsername: 'The password must differ from the username.',
  passwordsDiffer: 'The passwords do not match.',
  username: 'Use 3-64 letters, digits, dots, dashes or underscores, starting with a letter or digit.',
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/

export function checkEmail(value) {
  if (!String(value ?? '').trim()) return MESSAGES.required
  return EMAIL.test(String(value).trim()) ? '' : MESSAGES.email
}

/** A rough first check (digits, spaces, + ( ) -, 7 to 15 digits); the server parses the number for real. */
export function checkPhone(value) {
  const text = String(value ?? '').trim()
  if (!text) return ''
  const digits = text.replace(/\D/g, '')
  if (!/^\+?[\d\s().-]+$/.test(text) || digits.length < 7 || digits.length > 15) return MESSAGES.phone
  return ''
}

export function checkDateOfBirth(value) {
  if (!value) return ''
  if (value > today()) return MESSAGES.dobFuture
  const t = today()
  const oldest = `${Number(t.slice(0, 4)) - 130}${t.slice(4)}`
  if (value < oldest) return MESSAGES.dobTooOld
  return ''
}

export function checkAccount(account, { fullName } = {}) {
  const e = {}
  if (!account.username.trim()) e.username = MESSAGES.required
  else if (!USERNAME.test(account.username.trim())) e.username = MESSAGES.username
  const email = checkEmail(account.email)
  if (email) e.email = email
  if (account.password.length < 8) e.password = MESSAGES.passwordShort
  else if (account.password === account.username) e.password = MESSAGES.passwordIsUsername
  if (account.confirm !== undefined && account.confirm !== account.password) e.confirm = MESSAGES.passwordsDiffer
  if (fullName !== undefined && !String(fullName).trim()) e.full_name = MESSAGES.required
  return e
}

export function checkProfile(profile) {
  const e = {}
  const dob = checkDateOfBirth(profile.date_of_birth)
  if (dob) e.date_of_birth = dob
  const phone = checkPhone(profile.phone)
  if (phone) e.phone = phone
  return e
}
