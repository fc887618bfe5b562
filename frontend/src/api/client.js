import axios from 'axios'
import { useAuthStore } from '@/stores/auth'

/** The one HTTP client of the SPA: base URL /api, bearer token (kept in memory), one refresh-and-retry on 401. */
const api = axios.create({ baseURL: '/api', headers: { Accept: 'application/json' } })

let onSessionExpired = () => {}
let onPasswordChangeRequired = () => {}

/** main.js wires navigation here, so the client does not import the router (no import cycle). */
export function setSessionHandlers({ expired, passwordChange }) {
  if (expired) onSessionExpired = expired
  if (passwordChange) onPasswordChangeRequired = passwordChange
}

const NO_REFRESH = ['/auth/login', '/auth/refresh', '/auth/register']

api.interceptors.request.use((config) => {
  const auth = useAuthStore()
  if (auth.accessToken && !config.headers.Authorization) {
    config.headers.Authorization = `Bearer ${auth.accessToken}`
  }
  return config
})

api.interceptors.response.use(
  (res) => res,
  async (error) => {
    const { config, response } = error
    if (!response || !config) throw error
    const auth = useAuthStore()
    const url = config.url || ''
    if (response.status === 401 && !config._retried && !NO_REFRESH.some((p) => url.startsWith(p))) {
      if (auth.isAuthenticated) {
        config._retried = true
        try {
          // the refresh token is an HttpOnly cookie: the browser sends it, this script never sees it
          const token = await auth.refresh()
          config.headers.Authorization = `Bearer ${token}`
          return api(config)
        } catch {
          /* fall through to logout */
        }
      }
      if (auth.accessToken) {
        auth.clear()
        onSessionExpired()
      }
    } else if (response.status === 403) {
      const code = await errorCode(response)
      if (code === 'password_change_required') {
        auth.markMustChangePassword()
        onPasswordChangeRequired()
      }
    }
    throw error
  },
)

async function errorCode(response) {
  let data = response.data
  if (data instanceof Blob) {
    try {
      data = JSON.parse(await data.text())
      response.data = data
    } catch {
      return null
    }
  }
  return data?.error?.code ?? null
}

export default api
