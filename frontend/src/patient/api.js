import { api, body, get } from '@/api/request'

/** Patient API (SPEC §7). */
export const patientApi = {
  dashboard: () => get('/patient/dashboard'),
  profile: () => get('/patient/profile'),
  updateProfile: (data) => body(api.put('/patient/profile', data)),

  appointments: (params) => get('/patient/appointments', params),
  appointment: (id) => get(`/patient/appointments/${id}`),
  book: (data) => body(api.post('/patient/appointments', data)),
  reschedule: (id, data) => body(api.put(`/patient/appointments/${id}`, data)),
  cancel: (id, reason) => body(api.post(`/patient/appointments/${id}/cancel`, { reason })),

  waitlist: (params) => get('/patient/waitlist', params),
  joinWaitlist: (doctorId, date) => body(api.post('/patient/waitlist', { doctor_id: doctorId, date })),
  leaveWaitlist: (id) => body(api.delete(`/patient/waitlist/${id}`)),

  history: (params) => get('/patient/history', params),
  exports: (params) => get('/patient/exports', params),
  exportJob: (id) => get(`/patient/exports/${id}`),
  startExport: () => body(api.post('/patient/exports')),
}
