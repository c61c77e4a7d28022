// Entry point of the explorer's page: the explorer over HTTP (`gpt2-lens serve`), or, built as the static site,
// the explorer inside the frame that loads a model into a Web Worker on this machine.
import { render } from 'preact';
import { App } from './app.tsx';
import { IS_SITE } from './site/flags.ts';
import { SiteShell } from './site/SiteShell.tsx';
import './style.css';

render(IS_SITE ? <SiteShell /> : <App />, document.getElementById('app')!);
