/** The emulated organization and the user that owns the emulator's API keys. */
export const ORG_ID = 424242;

export const ACTING_USER = {
  uuid: '5f0c7a2e-6b1d-4c3a-9e8f-2a7d1b3c4e5f',
  legacyId: 1100001,
  handle: 'day2-sandbox@example.com',
  email: 'day2-sandbox@example.com',
  name: 'day2 sandbox',
  createdAt: '2024-01-01T00:00:00+00:00',
} as const;

/** The user as v2 endpoints include it (`included` of a downtime, `data` of an incident user). */
export function userResource(): Record<string, unknown> {
  return {
    type: 'users',
    id: ACTING_USER.uuid,
    attributes: {
      name: null,
      handle: ACTING_USER.handle,
      created_at: ACTING_USER.createdAt,
      modified_at: ACTING_USER.createdAt,
      email: ACTING_USER.email,
      icon: 'https://secure.gravatar.com/avatar/00000000000000000000000000000000?s=48&d=retro',
      title: null,
      verified: true,
      service_account: true,
      disabled: false,
      allowed_login_methods: [],
      status: 'Active',
    },
  };
}

export function userRef(): { type: 'users'; id: string } {
  return { type: 'users', id: ACTING_USER.uuid };
}
