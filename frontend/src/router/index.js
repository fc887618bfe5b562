import { createRouter, createWebHistory } from 'vue-router'
import { HOME_BY_ROLE, useAuthStore } from '@/stores/auth'

// Portal pages are lazy: each portal loads its own chunks.
const admin = (name, path, loader, extra = {}) => ({ path: `/admin${path}`, name: `admin-${name}`, component: loader, meta: { role: 'admin', ...extra } })
const doctor = (name, path, loader, extra = {}) => ({ path: `/doctor${path}`, name: `doctor-${name}`, component: loader, meta: { role: 'doctor', ...extra } })
const patient = (name, path, loader, extra = {}) => ({ path: `/patient${path}`, name: `patient-${name}`, component: loader, meta: { role: 'patient', ...extra } })
const ChangePassword = () => import('@/auth/ChangePasswordPage.vue')
const Sessions = () => import('@/auth/SessionsPage.vue')

const routes = [
  { path: '/', name: 'landing', component: () => import('@/directory/LandingPage.vue'), meta: { title: 'Departments and doctors' } },
  { path: '/login', name: 'login', component: () => import('@/auth/LoginPage.vue'), meta: { guest: true, title: 'Sign in' } },
  { path: '/register', name: 'register', component: () => import('@/auth/RegisterPage.vue'), meta: { guest: true, title: 'Register' } },
  { path: '/forgot-password', name: 'forgot-password', component: () => import('@/auth/ForgotPasswordPage.vue'), meta: { guest: true, title: 'Forgot password' } },
  { path: '/verify-email', name: 'verify-email', component: () => import('@/auth/VerifyEmailPage.vue'), meta: { title: 'Confirm your e-mail address' } },
  { path: '/reset-password', name: 'reset-password', component: () => import('@/auth/ResetPasswordPage.vue'), meta: { title: 'Choose a new password' } },

  admin('dashboard', '', () => import('@/admin/AdminDashboard.vue'), { title: 'Admin dashboard' }),
  admin('departments', '/departments', () => import('@/admin/DepartmentsPage.vue'), { title: 'Departments' }),
  admin('doctors', '/doctors', () => import('@/admin/DoctorsPage.vue'), { title: 'Doctors' }),
  admin('patients', '/patients', () => import('@/admin/PatientsPage.vue'), { title: 'Patients' }),
  admin('appointments', '/appointments', () => import('@/admin/AppointmentsPage.vue'), { title: 'Appointments' }),
  admin('reports', '/reports', () => import('@/admin/ReportsPage.vue'), { title: 'Reports' }),
  admin('desk', '/desk', () => import('@/admin/DeskPage.vue'), { title: 'Front desk' }),
  admin('billing', '/billing', () => import('@/admin/BillingPage.vue'), { title: 'Billing' }),
  admin('exports', '/exports', () => import('@/admin/ExportsPage.vue'), { title: 'Exports' }),
  admin('audit', '/audit', () => import('@/admin/AuditPage.vue'), { title: 'Audit log' }),
  admin('password', '/password', ChangePassword, { title: 'Change password', password: true }),
  admin('sessions', '/sessions', Sessions, { title: 'Where you are signed in' }),

  doctor('dashboard', '', () => import('@/doctor/DoctorDashboard.vue'), { title: 'Doctor dashboard' }),
  doctor('appointments', '/appointments', () => import('@/doctor/AppointmentsPage.vue'), { title: 'Appointments' }),
  doctor('treatment', '/appointments/:id/treatment', () => import('@/doctor/TreatmentPage.vue'), { title: 'Treatment' }),
  doctor('patients', '/patients', () => import('@/doctor/PatientsPage.vue'), { title: 'My patients' }),
  doctor('patient-history', '/patients/:id', () => import('@/doctor/PatientHistoryPage.vue'), { title: 'Patient history' }),
  doctor('availability', '/availability', () => import('@/doctor/AvailabilityPage.vue'), { title: 'Availability' }),
  doctor('report', '/report', () => import('@/doctor/ReportPage.vue'), { title: 'Monthly report' }),
  doctor('calendar', '/calendar', () => import('@/doctor/CalendarPage.vue'), { title: 'Calendar feed' }),
  doctor('profile', '/profile', () => import('@/doctor/ProfilePage.vue'), { title: 'My profile' }),
  doctor('password', '/password', ChangePassword, { title: 'Change password', password: true }),
  doctor('sessions', '/sessions', Sessions, { title: 'Where you are signed in' }),

  patient('dashboard', '', () => import('@/patient/PatientDashboard.vue'), { title: 'My dashboard' }),
  patient('doctors', '/doctors', () => import('@/patient/FindDoctorPage.vue'), { title: 'Find a doctor' }),
  patient('book', '/book', () => import('@/patient/BookPage.vue'), { title: 'Book an appointment' }),
  patient('appointments', '/appointments', () => import('@/patient/AppointmentsPage.vue'), { title: 'My appointments' }),
  patient('waitlist', '/waitlist', () => import('@/patient/WaitlistPage.vue'), { title: 'Waitlist' }),
  patient('history', '/history', () => import('@/patient/HistoryPage.vue'), { title: 'My history' }),
  patient('invoices', '/invoices', () => import('@/patient/InvoicesPage.vue'), { title: 'My invoices' }),
  patient('profile', '/profile', () => import('@/patient/ProfilePage.vue'), { title: 'My profile' }),
  patient('password', '/password', ChangePassword, { title: 'Change password', password: true }),
  patient('sessions', '/sessions', Sessions, { title: 'Where you are signed in' }),

  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/components/NotFound.vue'), meta: { title: 'Not found' } },
]

const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: (to, from, saved) => saved || { top: 0 },
})

/** Role guard: sign-in for portal routes, own portal only, forced password change, then two-factor enrolment first. */
router.beforeEach((to) => {
  const auth = useAuthStore()
  const home = HOME_BY_ROLE[auth.role] || '/'
  if (auth.isAuthenticated && auth.mustChangePassword) {
    const passwordPage = `/${auth.role}/password`
    return to.path === passwordPage ? true : passwordPage
  }
  if (auth.isAuthenticated && auth.mustEnrolTotp) {
    const enrolPage = `/${auth.role}/sessions`
    return to.path === enrolPage ? true : enrolPage
  }
  if (to.meta.guest && auth.isAuthenticated) return home
  if (to.meta.role) {
    if (!auth.isAuthenticated) return { name: 'login', query: { redirect: to.fullPath } }
    if (auth.role !== to.meta.role) return home
  }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · CityCare Hospital` : 'CityCare Hospital'
})

export default router
