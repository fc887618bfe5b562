import { api, body, get } from '@/api/request'

/** Admin API (SPEC §5). */
export const adminApi = {
  stats: () => get('/admin/stats'),
  analytics: () => get('/admin/analytics'),

  departments: (params) => get('/admin/departments', params),
  createDepartment: (data) => body(api.post('/admin/departments', data)),
  updateDepartment: (id, data) => body(api.put(`/admin/departments/${id}`, data)),
  deleteDepartment: (id) => body(api.delete(`/admin/departments/${id}`)),

  doctors: (params) => get('/admin/doctors', params),
  doctor: (id) => get(`/admin/doctors/${id}`),
  createDoctor: (data) => body(api.post('/admin/doctors', data)),
  updateDoctor: (id, data) => body(api.put(`/admin/doctors/${id}`, data)),
  deleteDoctor: (id, bookings) => body(api.delete(`/admin/doctors/${id}`, { params: bookings ? { bookings } : {} })),
  blockDoctor: (id, bookings) => body(api.post(`/admin/doctors/${id}/block`, null, { params: bookings ? { bookings } : {} })),
  unblockDoctor: (id) => body(api.post(`/admin/doctors/${id}/unblock`)),

  patients: (params) => get('/admin/patients', params),
  patient: (id) => get(`/admin/patients/${id}`),
  createPatient: (data) => body(api.post('/admin/patients', data)),
  updatePatient: (id, data) => body(api.put(`/admin/patients/${id}`, data)),
  deletePatient: (id) => body(api.delete(`/admin/patients/${id}`)),
  blockPatient: (id) => body(api.post(`/admin/patients/${id}/block`)),
  unblockPatient: (id) => body(api.post(`/admin/patients/${id}/unblock`)),

  signInLocks: (userId) => get(`/admin/users/${userId}/sign-in-locks`),
  unlockSignIn: (userId) => body(api.post(`/admin/users/${userId}/unlock`)),

  appointments: (params) => get('/admin/appointments', params),
  rescheduleAppointment: (id, data) => body(api.put(`/admin/appointments/${id}`, data)),
  cancelAppointment: (id, reason) => body(api.post(`/admin/appointments/${id}/cancel`, { reason })),

  exports: (params) => get('/admin/exports', params),
  exportJob: (id) => get(`/admin/exports/${id}`),
  startExport: (data) => body(api.post('/admin/exports', data)),

  audit: (params) => get('/admin/audit', params),
}

/**
 * DELETE of a doctor/patient either deletes or deactivates (history is kept).
 * The message shown is the server's own when it sends one.
 */
export function deletionMessage(data, name) {
  if (data?.message) return data.message
  const deactivated = data?.deactivated === true || data?.status === 'deactivated' || data?.action === 'deactivated' || data?.result === 'deactivated' || data?.deleted === false
  return deactivated ? `${name} has clinical history and was deactivated instead of deleted.` : `${name} was deleted.`
}

/** Lift a user's sign-in locks, saying whether there was any; returns the toast text. */
export async function liftSignInLocks(userId, name) {
  const locks = await adminApi.signInLocks(userId)
  if (!locks.locked) return `${name} has no sign-in lock.`
  await adminApi.unlockSignIn(userId)
  return `Sign-in lock of ${name} lifted.`
}
