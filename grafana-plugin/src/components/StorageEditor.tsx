import { Text } from '@grafana/ui';

import { TypeEditorProps } from './editorProps';

/**
 * Editor of a storage query. It has no parameters: the answer is one row
 * per campaignpulse collection (documents, data/on-disk/index bytes, how it
 * expires), so there is only an explanation to show.
 */
export function StorageEditor(_: TypeEditorProps) {
  return (
    <Text color="secondary">
      One row per collection: documents, data, on-disk and index bytes, and its expiry (the server&apos;s
      expireAfterSeconds, or the aggregator&apos;s own deletion where MongoDB has no TTL).
    </Text>
  );
}
