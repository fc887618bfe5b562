import { createPinia, setActivePinia } from 'pinia'

/** A request the test settles by hand, to put answers in any order. */
export function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** An axios-shaped failure with the API's error body. */
export function apiError(status, code, message = 'failed', fields = undefined) {
  return Object.assign(new Error(message), { response: { status, data: { error: { code, message, fields } } } })
}

export function freshPinia() {
  const pinia = createPinia()
  setActivePinia(pinia)
  return pinia
}

/** Lets pending promise callbacks run. */
export const flush = () => new Promise((r) => setTimeout(r, 0))
