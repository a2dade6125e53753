import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { getRotation, latestRotation } from './rotation/rotation-store.js';
import { renderRotation, rotationShape, rotationView } from './rotation-shape.js';

export const getRotationTool = defineTool({
  name: 'get_rotation',
  title: 'Get rotation',
  description: 'Where a credential rotation stands: each step with its status and time, never a value.',
  toolset: 'secrets',
  effect: 'read',
  risk: 'low',
  input: {
    rotation_id: z.string().optional().describe('or secret and env'),
    secret: z.string().optional().describe('e.g. prod/payment-service/db'),
    env: z.string().optional(),
  },
  output: { rotation: rotationShape },
  async run(args, ctx) {
    const doc = args.rotation_id
      ? await getRotation(ctx.deps.store, args.rotation_id)
      : args.secret && args.env
        ? await latestRotation(ctx.deps.store, args.env, args.secret)
        : undefined;
    if (!args.rotation_id && !(args.secret && args.env))
      throw new ToolError('give rotation_id, or secret and env', 'invalid_input', 'rotation_id');
    if (!doc)
      throw new ToolError(
        args.rotation_id
          ? `rotation_id: no rotation ${args.rotation_id}`
          : `secret: no rotation of ${args.secret} in ${args.env}`,
        'not_found',
        args.rotation_id ? 'rotation_id' : 'secret',
      );
    return { rotation: rotationView(doc.value) };
  },
  render: (o) => renderRotation(o.rotation),
});
