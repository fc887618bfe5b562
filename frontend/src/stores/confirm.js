import { defineStore } from 'pinia'
import { ref } from 'vue'

/**
 * One confirmation dialog for the whole app. `ask()` resolves to false (dismissed) or
 * {reason} (confirmed; reason is '' unless a reason field was asked for). With `choices`
 * ([{value, text, variant}]) the dialog offers those buttons and resolves to {choice}; `items` lists lines.
 */
export const useConfirmStore = defineStore('confirm', () => {
  const open = ref(false)
  const options = ref({})
  let resolver = null

  function ask(opts) {
    options.value = {
      title: 'Please confirm',
      message: '',
      okText: 'Confirm',
      cancelText: 'Back',
      variant: 'danger',
      reason: false,
      reasonLabel: 'Reason',
      reasonRequired: false,
      choices: null,
      items: null,
      ...opts,
    }
    open.value = true
    return new Promise((resolve) => {
      resolver = resolve
    })
  }
  function settle(result) {
    open.value = false
    if (resolver) resolver(result)
    resolver = null
  }
  return { open, options, ask, settle }
})

/** Shortcut used by pages: `if (!(await confirmAction({...}))) return`. */
export function confirmAction(opts) {
  return useConfirmStore().ask(opts)
}
