import { ref } from 'vue'
import { handleApiError } from '@/api/errors'
import { useToastStore } from '@/stores/toasts'

/**
 * One action on one row of a list (block, cancel, leave…): the row's buttons are disabled while it runs, a failure
 * is shown as the API's error, a success as a toast. `run(row, action)` resolves to the action's result, or null
 * when it failed. `action` may return a string (the toast) or `{toast, result}`; null or false means "nothing done".
 */
export function useRowAction() {
  const busy = ref(null)
  const toasts = useToastStore()

  async function run(row, action) {
    busy.value = row?.id ?? true
    try {
      const out = await action(row)
      if (typeof out === 'string') toasts.success(out)
      else if (out?.toast) toasts.success(out.toast)
      return out ?? null
    } catch (err) {
      handleApiError(err)
      return null
    } finally {
      busy.value = null
    }
  }
  return { busy, run }
}
