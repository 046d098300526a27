// One load with its state: `const { data, loading, error, run } = useAsync(() => unwrap(api.GET(...)))`.
// `run()` again to retry; answers of a superseded run are dropped.
import { ref, shallowRef, type Ref } from 'vue';

export interface AsyncState<T> {
  data: Ref<T | null>;
  loading: Ref<boolean>;
  error: Ref<unknown>;
  run: () => Promise<T | null>;
}

export function useAsync<T>(load: () => Promise<T>, options: { immediate?: boolean } = {}): AsyncState<T> {
  const data = shallowRef<T | null>(null) as Ref<T | null>;
  const loading = ref(false);
  const error = shallowRef<unknown>(null);
  let generation = 0;

  async function run(): Promise<T | null> {
    const mine = ++generation;
    loading.value = true;
    error.value = null;
    try {
      const value = await load();
      if (mine === generation) data.value = value;
      return value;
    } catch (e) {
      if (mine === generation) error.value = e;
      return null;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  if (options.immediate ?? true) void run();
  return { data, loading, error, run };
}
