import { api, body, get } from '@/api/request'

/** Doctor API (SPEC §6). */
export const doctorApi = {
  profile: () => get('/doctor/profile'),
  updateProfile: (data) => body(api.put('/doctor/profile', data)),
  dashboard: () => get('/doctor/dashboard'),

  appointments: (params) => get('/doctor/appointments', params),
  complete: (id) => body(api.post(`/doctor/appointments/${id}/complete`)),
  cancel: (id, reason) => body(api.post(`/doctor/appointments/${id}/cancel`, { reason })),
  noShow: (id) => body(api.post(`/doctor/appointments/${id}/no-show`)),
  treatment: (id) => get(`/doctor/appointments/${id}/treatment`),
  saveTreatment: (id, data) => body(api.put(`/doctor/appointments/${id}/treatment`, data)),

  patients: (params) => get('/doctor/patients', params),
  patientHistory: (id, params) => get(`/doctor/patients/${id}/history`, params),

  availability: (dateFrom, days = 7) => get('/doctor/availability', { date_from: dateFrom, days }),
  setAvailability: (data) => body(api.put('/doctor/availability', data)),
  applyTemplate: (data) => body(api.post('/doctor/availability/template', data)),
  toggleSlot: (date, start) => body(api.post('/doctor/availability/toggle', { date, start })),

  calendar: () => get('/doctor/calendar'),
  createCalendar: () => body(api.post('/doctor/calendar')),
  revokeCalendar: () => body(api.delete('/doctor/calendar')),
}
