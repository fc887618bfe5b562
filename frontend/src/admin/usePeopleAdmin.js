import { ref } from 'vue'
import { deletionMessage, liftSignInLocks } from './api'
import { confirmAction } from '@/stores/confirm'
import { useRowAction } from '@/utils/useRowAction'
import { plural } from '@/utils/format'

/**
 * What the admin's doctors and patients pages do to a row: open the add/edit dialog, lift sign-in locks, block or
 * unblock, delete. `api.block(person)` / `api.remove(person)` may resolve to null when the admin backed out of a
 * follow-up question (a doctor's booked visits); `notes` says what blocking and deleting mean for this kind.
 */
export function usePeopleAdmin({ list, name, api, noun, notes }) {
  const { busy, run } = useRowAction()
  const modal = ref(false)
  const editing = ref(null)

  function open(person = null) {
    editing.value = person
    modal.value = true
  }

  const close = () => (modal.value = false)
  const unlock = (p) => run(p, () => liftSignInLocks(p.user_id, name(p)))

  async function toggleBlock(p) {
    const block = p.is_active !== false
    const asked = block && (await confirmAction({ title: `Block ${noun}`, message: `Block ${name(p)}? ${notes.block}`, okText: 'Block', variant: 'warning' }))
    if (block && !asked) return
    const done = await run(p, async () => {
      const res = block ? await api.block(p) : await api.unblock(p)
      if (!res) return null
      const settled = res.settled_appointments?.length
      return `${name(p)} ${block ? 'blocked' : 'unblocked'}.${settled ? ` ${plural(settled, 'patient')} told about their visit.` : ''}`
    })
    if (done) list.reload()
  }

  async function remove(p) {
    if (!(await confirmAction({ title: `Delete ${noun}`, message: `Delete ${name(p)}? ${notes.remove}`, okText: 'Delete' }))) return
    const done = await run(p, async () => {
      const res = await api.remove(p)
      return res ? deletionMessage(res, name(p)) : null
    })
    if (done) list.reload()
  }

  return { busy, modal, editing, open, close, unlock, toggleBlock, remove }
}
