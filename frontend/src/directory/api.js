import api from '@/api/client'
import { cleanParams } from '@/api/lists'

/** Public directory: departments, doctors, slots. */
export const directoryApi = {
  departments: (params) => api.get('/departments', { params: cleanParams(params) }).then((r) => r.data),
  department: (id) => api.get(`/departments/${id}`).then((r) => r.data),
  doctors: (params) => api.get('/doctors', { params: cleanParams(params) }).then((r) => r.data),
  doctor: (id) => api.get(`/doctors/${id}`).then((r) => r.data),
  slots: (id, date) => api.get(`/doctors/${id}/slots`, { params: { date } }).then((r) => r.data),
  availabilitySummary: (id, from, to) => api.get(`/doctors/${id}/availability-summary`, { params: { from, to } }).then((r) => r.data),
}
