export { AppConfig, ConfigError, loadConfig, loadConfigOrExit } from './app-config';
