import { loadConfig } from '../config/app-config';
import { createDataSource } from './prepare-database';

/** For the TypeORM CLI (`npm run migration:run`, `migration:generate`). */
const config = loadConfig();
const ds = createDataSource(config.databaseUrl);
// migration:generate compares against the entities.
ds.setOptions({ entities: [__dirname + '/../**/*.entity.js'] });
export default ds;
