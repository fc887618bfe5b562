import { ref } from 'vue'
import { handleApiError } from '@/api/errors'

/**
 * The save cycle every form repeats: check in the browser first (all problems at once, in the server's words),
 * then send; the server's field errors land beside the same fields. `submit(check, send)` resolves to true when
 * the send succeeded.
 */
export function useFormState() {
  const errors = ref({})
  const saving = ref(false)

  async function submit(check, send) {
    errors.value = (check && check()) || {}
    if (Object.keys(errors.value).length) return false
    saving.value = true
    try {
      await send()
      return true
    } catch (err) {
      errors.value = handleApiError(err).fields || {}
      return false
    } finally {
      saving.value = false
    }
  }
  return { errors, saving, submit }
}
