import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import api from '@/api/client'

const KEYS = { access: 'hms.access_token', refresh: 'hms.refresh_token', user: 'hms.user' }

function readUser() {
  try {
    return JSON.parse(localStorage.getItem(KEYS.user) || 'null')
  } catch {
    return null
  }
}

function persist(key, value) {
  if (value === null || value === undefined) localStorage.removeItem(key)
  else localStorage.setItem(key, typeof value === 'string' ? value : JSON.stringify(value))
}

export const HOME_BY_ROLE = { admin: '/admin', doctor: '/doctor', patient: '/patient' }

/** Session: tokens in localStorage, the signed-in user and the profile of their role. */
export const useAuthStore = defineStore('auth', () => {
  const accessToken = ref(localStorage.getItem(KEYS.access))
  const refreshToken = ref(localStorage.getItem(KEYS.refresh))
  const user = ref(readUser())
  const profile = ref(null)

  const isAuthenticated = computed(() => !!accessToken.value && !!user.value)
  const role = computed(() => user.value?.role ?? null)
  const mustChangePassword = computed(() => !!user.value?.must_change_password)
  const home = computed(() => HOME_BY_ROLE[role.value] ?? '/')
  const displayName = computed(() => profile.value?.display_name || profile.value?.full_name || user.value?.username || '')

  function setAccessToken(token) {
    accessToken.value = token
    persist(KEYS.access, token)
  }
  function setRefreshToken(token) {
    refreshToken.value = token
    persist(KEYS.refresh, token)
  }
  function setUser(u) {
    user.value = u
    persist(KEYS.user, u)
  }
  function setSession(data) {
    setAccessToken(data.access_token)
    if (data.refresh_token) setRefreshToken(data.refresh_token)
    setUser(data.user)
    profile.value = null
  }
  function markMustChangePassword() {
    if (user.value) setUser({ ...user.value, must_change_password: true })
  }
  function clear() {
    setAccessToken(null)
    setRefreshToken(null)
    setUser(null)
    profile.value = null
  }

  async function login(username, password) {
    const { data } = await api.post('/auth/login', { username, password })
    setSession(data)
    return data.user
  }

  async function register(payload) {
    const { data } = await api.post('/auth/register', payload)
    setSession(data)
    return data.user
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
    // The server ends every earlier session, this one included, and hands back fresh tokens to carry on with.
    if (data?.access_token) setAccessToken(data.access_token)
    if (data?.refresh_token) setRefreshToken(data.refresh_token)
    if (data?.user) setUser({ ...data.user, must_change_password: false })
    else if (user.value) setUser({ ...user.value, must_change_password: false })
  }

  async function logout() {
    try {
      if (accessToken.value) await api.post('/auth/logout')
    } catch {
      /* the token may already be invalid: the local session ends anyway */
    } finally {
      clear()
    }
  }

  return {
    accessToken, refreshToken, user, profile,
    isAuthenticated, role, mustChangePassword, home, displayName,
    setAccessToken, setRefreshToken, setUser, setSession, markMustChangePassword, clear,
    login, register, fetchMe, changePassword, logout,
  }
})
