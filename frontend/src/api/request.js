import api from './client'
import { cleanParams } from './lists'

/** GET with the empty filters left out of the query string; resolves to the response body. */
export const get = (url, params) => api.get(url, { params: cleanParams(params) }).then((r) => r.data)

/** The body of any other request's response: `body(api.post(...))`. */
export const body = (request) => request.then((r) => r.data)

export { api }
