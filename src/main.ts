import { mount } from 'svelte';
import App from './ui/app.svelte';
import './ui/app.css';

mount(App, { target: document.getElementById('app')! });
