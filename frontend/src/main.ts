import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from './i18n';
import { createAppRouter } from './router';
import { useAuthStore } from './stores/auth';
import './styles/base.css';

const app = createApp(App);
app.use(createPinia());
app.use(i18n);
const router = createAppRouter();
app.use(router);

const auth = useAuthStore();
auth.whenSessionEnds(() => {
  const current = router.currentRoute.value;
  if (current.name !== 'login') {
    void router.push({ name: 'login', query: { redirect: current.fullPath, expired: '1' } });
  }
});
void auth.ensureMe();

app.mount('#app');
