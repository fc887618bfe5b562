/** Chart colours of the calm medical theme. */
export const palette = ['#0f766e', '#2563eb', '#14b8a6', '#f59e0b', '#ef4444', '#8b5cf6', '#0ea5e9', '#84cc16', '#ec4899', '#64748b']
export const statusColors = { booked: '#2563eb', completed: '#0f766e', cancelled: '#94a3b8', no_show: '#f59e0b' }
