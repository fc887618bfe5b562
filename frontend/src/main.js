import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'bootstrap/dist/css/bootstrap.min.css'
import 'bootstrap-icons/font/bootstrap-icons.min.css'
import './styles/theme.css'
import App from './App.vue'
import router from './router'
import { setSessionHandlers } from './api/client'
import { useAuthStore } from './stores/auth'
import { useHospitalStore } from './stores/hospital'

const app = createApp(App)
app.use(createPinia())

let started = false

setSessionHandlers({
  expired() {
    if (!started) return // stale token at start-up: the route guard sends the visitor to /login
    const here = router.currentRoute.value
    if (here.name !== 'login') router.push({ name: 'login', query: { redirect: here.fullPath, expired: '1' } })
  },
  passwordChange() {
    if (!started) return
    const auth = useAuthStore()
    router.push(`/${auth.role || 'doctor'}/password`)
  },
})

// The session survives a reload only through the HttpOnly refresh cookie: restore it (and the user's role,
// block state, must_change_password) before the first navigation.
const auth = useAuthStore()
auth.onSignedOutElsewhere(() => {
  if (started) router.push({ name: 'login' })
})
// The hospital's clock and limits (GET /api/settings) before the first page shows a date.
const settings = useHospitalStore().load().catch(() => {})
const session = auth.restore().then((ok) => (ok ? auth.fetchMe().catch(() => {}) : null))
const ready = Promise.all([settings, session])
ready.finally(() => {
  app.use(router)
  app.mount('#app')
  started = true
})
