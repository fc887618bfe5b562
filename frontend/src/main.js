import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'bootstrap/dist/css/bootstrap.min.css'
import 'bootstrap-icons/font/bootstrap-icons.min.css'
import './styles/theme.css'
import App from './App.vue'
import router from './router'
import { useAuthStore } from './stores/auth'
import api, { setSessionHandlers } from './api/client'
import { setHospitalClock } from './utils/format'

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

// Refresh the stored user (role, block state, must_change_password) before the first navigation.
const auth = useAuthStore()
const me = auth.accessToken ? auth.fetchMe().catch(() => {}) : Promise.resolve()
// The hospital's zone and clock, so "today" and every time on screen are the hospital's, not the browser's.
const clock = api.get('/hospital').then((res) => setHospitalClock(res.data)).catch(() => {})
Promise.all([me, clock]).finally(() => {
  app.use(router)
  app.mount('#app')
  started = true
})
