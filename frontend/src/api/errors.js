import { useToastStore } from '@/stores/toasts'

/** Flattens {"a": ["x"], "b": {"0": {"c": ["y"]}}} into {"a": "x", "b.0.c": "y"}. */
function flattenFields(fields, prefix = '', out = {}) {
  if (!fields || typeof fields !== 'object') return out
  for (const [key, value] of Object.entries(fields)) {
    const name = prefix ? `${prefix}.${key}` : key
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[name] = value.join(' ')
    else if (typeof value === 'string') out[name] = value
    else if (Array.isArray(value)) value.forEach((v, i) => flattenFields(v, `${name}.${i}`, out))
    else flattenFields(value, name, out)
  }
  return out
}

/** Turns any failed request into {status, code, message, fields} following the API's error format. */
export function parseApiError(err) {
  const response = err?.response
  if (!response) {
    return { status: 0, code: 'network', message: 'The server could not be reached. Check your connection and try again.', fields: {} }
  }
  const body = response.data?.error
  if (body) {
    const fields = flattenFields(body.fields)
    let message = body.message || 'The request failed.'
    if (response.status === 422 && Object.keys(fields).length && !body.message) message = 'Please correct the highlighted fields.'
    return { status: response.status, code: body.code || `http_${response.status}`, message, fields }
  }
  const generic = {
    400: 'The request was not valid.',
    401: 'Your session has ended. Please sign in again.',
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
