// Importing this module registers every built-in gradient rule.
import './elementwise';
import './linalg';
import './reduce';
import './shape';
