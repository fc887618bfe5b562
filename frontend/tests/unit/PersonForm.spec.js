import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { reactive } from 'vue'
import PersonForm from '@/components/PersonForm.vue'
import { checkPerson, doctorForm, personForm } from '@/utils/personForm'
import { MESSAGES } from '@/utils/validation'

const DEPARTMENTS = [{ id: 1, name: 'Cardiology' }, { id: 2, name: 'Neurology' }]

describe('PersonForm', () => {
  it('adding a doctor: username, e-mail and temporary password, then the profile with the department', async () => {
    const form = reactive(doctorForm())
    const account = reactive({ username: '', email: '', password: '' })
    const w = mount(PersonForm, { props: { kind: 'doctor', form, account, prefix: 'doctor', creating: true, departments: DEPARTMENTS } })
    const ids = w.findAll('input, select, textarea').map((el) => el.attributes('id'))
    expect(ids.slice(0, 4)).toEqual(['doctor-username', 'doctor-email', 'doctor-password', 'doctor-full-name'])
    expect(ids).toContain('doctor-department')
    expect(w.find('#doctor-password').element.closest('.mb-3').textContent).toContain('Temporary password')
    await w.find('#doctor-full-name').setValue('Dr Asha Rao')
    await w.find('#doctor-department').setValue('2')
    await w.find('#doctor-username').setValue('dr.asha')
    expect([form.full_name, String(form.department_id), account.username]).toEqual(['Dr Asha Rao', '2', 'dr.asha'])
    expect(form.slot_minutes).toBe(30)
  })

  it('editing: the username cannot change and there is no password field', () => {
    const w = mount(PersonForm, {
      props: { kind: 'patient', form: reactive(personForm('patient', { full_name: 'P' })), account: reactive({ username: 'p1', email: 'p@x.org', password: '' }), prefix: 'patient' },
    })
    expect(w.find('#patient-username').attributes('disabled')).toBeDefined()
    expect(w.find('#patient-password').exists()).toBe(false)
    expect(w.find('#patient-blood-group').exists()).toBe(true)
    expect(w.find('#patient-department').exists()).toBe(false)
  })

  it("a doctor's own profile has no account part and no department choice", () => {
    const w = mount(PersonForm, { props: { kind: 'doctor', form: reactive(doctorForm({ full_name: 'Dr A', department_id: 1 })), prefix: 'profile', own: true } })
    expect(w.find('#profile-email').exists()).toBe(false)
    expect(w.find('#profile-department').exists()).toBe(false)
    expect(w.find('#profile-full-name').element.value).toBe('Dr A')
    expect(w.find('legend').classes()).toContain('visually-hidden')
  })

  it("a patient's own profile has the e-mail, which the browser may fill", () => {
    const w = mount(PersonForm, { props: { kind: 'patient', form: reactive(personForm('patient')), account: reactive({ email: '' }), prefix: 'profile', own: true } })
    expect(w.find('#profile-email').attributes('autocomplete')).toBe('email')
    expect(w.find('#profile-username').exists()).toBe(false)
  })

  it('shows each error beside its field', () => {
    const w = mount(PersonForm, {
      props: { kind: 'doctor', form: reactive(doctorForm()), account: reactive({ username: '', email: '', password: '' }), prefix: 'doctor', creating: true, errors: { email: 'Bad e-mail.', phone: 'Bad phone.' } },
    })
    expect(w.find('[data-testid="error-doctor-email"]').text()).toBe('Bad e-mail.')
    expect(w.find('[data-testid="error-doctor-phone"]').text()).toBe('Bad phone.')
    expect(w.find('#doctor-email').attributes('aria-invalid')).toBe('true')
  })
})

describe('checkPerson', () => {
  it('names every problem at once', () => {
    const e = checkPerson(
      { ...personForm('patient'), full_name: ' ', phone: 'abc', date_of_birth: '2999-01-01' },
      { account: { email: 'nope', password: 'short' }, creating: true },
    )
    expect(e).toEqual({ full_name: MESSAGES.required, phone: MESSAGES.phone, date_of_birth: MESSAGES.dobFuture, email: MESSAGES.email, password: MESSAGES.passwordShort })
  })

  it('asks for a password only when creating, and passes a good form', () => {
    const good = { ...doctorForm(), full_name: 'Dr A', phone: '+91 98765 43210' }
    expect(checkPerson(good, { account: { email: 'a@b.org', password: '' } })).toEqual({})
    expect(checkPerson(good, { account: { email: 'a@b.org', password: '' }, creating: true })).toEqual({ password: MESSAGES.passwordShort })
    expect(checkPerson(good)).toEqual({})
  })
})
