import type { ApiClient } from '../api/client.ts';
import {
  ForgotPasswordPage,
  ResetPasswordPage,
  SignInPage,
  SignUpPage,
  VerifyPage,
} from '../pages/AuthPages.tsx';
import { DemoPage } from '../pages/DemoPage.tsx';
import { EditorPage } from '../pages/EditorPage.tsx';
import { InvitationPage } from '../pages/InvitationPage.tsx';
import { MapsPage } from '../pages/MapsPage.tsx';
import { SettingsPage } from '../pages/SettingsPage.tsx';
import { SetupPage } from '../pages/SetupPage.tsx';
import { AppLayout } from './AppLayout.tsx';
import { Link } from './Link.tsx';
import { useRoute } from './router.ts';

export function App({ api }: { api: ApiClient }) {
  const route = useRoute();
  switch (route.page) {
    case 'sign-in':
      return <SignInPage api={api} {...(route.next ? { next: route.next } : {})} />;
    case 'sign-up':
      return <SignUpPage api={api} />;
    case 'verify':
      return <VerifyPage api={api} token={route.token} />;
    case 'forgot-password':
      return <ForgotPasswordPage api={api} />;
    case 'reset-password':
      return <ResetPasswordPage api={api} token={route.token} />;
    case 'maps':
      return <MapsPage api={api} />;
    case 'editor':
      return <EditorPage key={route.mapId} api={api} mapId={route.mapId} />;
    case 'demo':
      return <DemoPage key={route.topics} topics={route.topics} />;
    case 'settings':
      return <SettingsPage api={api} />;
    case 'setup':
      return <SetupPage api={api} token={route.token} />;
    case 'invitation':
      return <InvitationPage api={api} token={route.token} />;
    case 'not-found':
      return (
        <AppLayout current="other" api={api}>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link to={{ page: 'maps' }}>Go to your maps</Link>.
          </p>
        </AppLayout>
      );
  }
}
