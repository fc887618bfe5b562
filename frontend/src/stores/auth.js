import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import axios from 'axios'
import api from '@/api/client'

// Nothing of the session is written to localStorage or sessionStorage: the access token lives in this store
// (memory) only, and the refresh token in an HttpOnly cookie the page's scripts cannot read (issue 14).
// Keys an older version left behind are removed at start.
const LEGACY_KEYS = ['hms.access_token', 'hms.refresh_token', 'hms.user']
for (const key of LEGACY_KEYS) {
  try {
    localStorage.removeItem(key)
  } catch {
    /* storage may be disabled: nothing to clean */
  }
}

export const HOME_BY_ROLE = { admin: '/admin', doctor: '/doctor', patient: '/patient' }

// Tabs of one browser share one session (one cookie): they tell each other about activity and sign-out.
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('hms-session') : null

/** Session: the access token in memory, the signed-in user, the profile of their role, and user activity. */
export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref(null)
  const user = ref(null)
  const profile = ref(null)
  // { id, idle_seconds, access_seconds, expires_at } of the server's session
  const session = ref(null)
  // Last user activity (keys, clicks, touches) anywhere in this browser, and the last one the server was told of.
  const lastActivity = ref(Date.now())
  const reportedActivity = ref(Date.now())

  const isAuthenticated = computed(() => !!accessToken.value && !!user.value)
  const role = computed(() => user.value?.role ?? null)
  const mustChangePassword = computed(() => !!user.value?.must_change_password)
  // An admin who must turn on two-factor sign-in (HMS_ADMIN_TOTP_REQUIRED) before anything else.
  const mustEnrolTotp = computed(() => !!user.value?.totp_required && !user.value?.totp_enabled)
  const home = computed(() => HOME_BY_ROLE[role.value] ?? '/')
  const displayName = computed(() => profile.value?.display_name || profile.value?.full_name || user.value?.username || '')
  const idleMs = computed(() => (session.value?.idle_seconds ?? 1800) * 1000)
  /** When the server ends the session unless the user does something: idle time after the last reported activity. */
  const idleDeadline = computed(() => reportedActivity.value + idleMs.value)

  function setAccessToken(token) {
    accessToken.value = token
  }
  function setUser(u) {
    user.value = u
  }
  function setSession(data) {
    accessToken.value = data.access_token
    if (data.user) user.value = data.user
    if (data.session) session.value = data.session
    profile.value = null
    lastActivity.value = reportedActivity.value = Date.now()
  }
  function markMustChangePassword() {
    if (user.value) user.value = { ...user.value, must_change_password: true }
  }
  function clear() {
    accessToken.value = null
    user.value = null
    session.value = null
    profile.value = null
  }

  let refreshing = null
  /**
   * A new access token from the refresh cookie (which the server rotates). One request at a time; it tells the
   * server how long the user has been inactive, so a refresh a background request needed is not "use".
   */
  function refresh() {
    if (!refreshing) {
      const activity = lastActivity.value
      const idleSeconds = Math.max(0, Math.floor((Date.now() - activity) / 1000))
      refreshing = axios
        .post('/api/auth/refresh', null, { headers: { Accept: 'application/json', 'X-HMS-Idle-Seconds': String(idleSeconds) } })
        .then((res) => {
          const keepProfile = profile.value
          accessToken.value = res.data.access_token
          if (res.data.user) user.value = { ...res.data.user }
          if (res.data.session) session.value = res.data.session
          profile.value = keepProfile
          reportedActivity.value = Math.max(reportedActivity.value, activity)
          channel?.postMessage({ type: 'reported', at: reportedActivity.value })
          return res.data.access_token
        })
        .finally(() => {
          refreshing = null
        })
    }
    return refreshing
  }

  /** At start-up: a session survives a reload only through the refresh cookie (hinted by `hms_session`). */
  async function restore() {
    if (!document.cookie.split(';').some((c) => c.trim().startsWith('hms_session='))) return false
    try {
      await refresh()
      lastActivity.value = reportedActivity.value = Date.now()
      return true
    } catch {
      clear()
      return false
    }
  }

  /** The user did something: the session is in use. */
  function noteActivity(at = Date.now(), { broadcast = true } = {}) {
    if (at <= lastActivity.value) return
    lastActivity.value = at
    if (broadcast) channel?.postMessage({ type: 'activity', at })
  }

  /** The signed-in user, or `{ totp: true, challenge }` when the account asks for a two-factor code next. */
  async function login(username, password) {
    const { data } = await api.post('/auth/login', { username, password })
    if (data.totp_required) return { totp: true, challenge: data.challenge }
    setSession(data)
    return data.user
  }

  /** The second step of a two-factor sign-in: the challenge of the password step and a code (or recovery code). */
  async function loginWithCode(challenge, code) {
    const { data } = await api.post('/auth/login/totp', { challenge, code })
    setSession(data)
    return data.user
  }

  /** Registration signs nobody in: the account works once the link mailed to the address is opened. */
  async function register(payload) {
    const { data } = await api.post('/auth/register', payload)
    return data.message
  }

  /** Reloads the user and role profile (GET /auth/me). */
  async function fetchMe() {
    const { data } = await api.get('/auth/me')
    const { doctor = null, patient = null, ...u } = data
    setUser(u)
    profile.value = doctor || patient || null
    return data
  }

  async function changePassword(currentPassword, newPassword) {
    const { data } = await api.post('/auth/change-password', { current_password: currentPassword, new_password: newPassword })
    // The server ends every earlier session, this one included, and starts a fresh one (new cookie).
    if (data?.access_token) accessToken.value = data.access_token
    if (data?.session) session.value = data.session
    if (data?.user) setUser({ ...data.user, must_change_password: false })
    else if (user.value) setUser({ ...user.value, must_change_password: false })
  }

  async function logout({ broadcast = true } = {}) {
    try {
      if (accessToken.value) await api.post('/auth/logout')
    } catch {
      /* the session may already have ended: the local one ends anyway */
    } finally {
      clear()
      if (broadcast) channel?.postMessage({ type: 'logout' })
    }
  }

  let onOtherTabLogout = () => {}
  function onSignedOutElsewhere(fn) {
    onOtherTabLogout = fn
  }
  if (channel) {
    channel.onmessage = ({ data }) => {
      if (data?.type === 'activity') noteActivity(data.at, { broadcast: false })
      else if (data?.type === 'reported') reportedActivity.value = Math.max(reportedActivity.value, data.at)
      else if (data?.type === 'logout' && isAuthenticated.value) {
        clear()
        onOtherTabLogout()
      }
    }
  }

  return {
    accessToken, user, profile, session, lastActivity, reportedActivity,
    isAuthenticated, role, mustChangePassword, mustEnrolTotp, home, displayName, idleMs, idleDeadline,
    setAccessToken, setUser, setSession, markMustChangePassword, clear,
    refresh, restore, noteActivity, onSignedOutElsewhere,
    login, loginWithCode, register, fetchMe, changePassword, logout,
  }
})
