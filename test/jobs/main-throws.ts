export default function main(): void {
  throw new Error('boom while building the pipeline');
}
