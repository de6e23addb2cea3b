// The official OpenAI Node.js client (npm `openai`, from NODE_PATH) against
// $URL: chat, streamed chat, completions, streamed completions, the model
// list and an error. Arguments: the API key, then files holding what the
// binary's CLI printed for the chat prompt "hello" and the raw prompt
// "hello world" (greedy, 8 tokens). Prints one line per check.
const fs = require('fs');
const { OpenAI } = require('openai');

const [apiKey, chatWantFile, rawWantFile] = process.argv.slice(2);
const cli = (f) => fs.readFileSync(f, 'utf8').replace(/\n$/, '');
const client = new OpenAI({ baseURL: process.env.URL + '/v1', apiKey, maxRetries: 0 });
const same = (got, want) => (got === want ? 'equals the CLI' : `DIFFERS: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);

(async () => {
  const models = await client.models.list();
  console.log('models:', models.data.map((m) => m.id).join(','));

  const messages = [{ role: 'user', content: 'hello' }];
  const chat = await client.chat.completions.create({ model: 'm', messages, temperature: 0, max_tokens: 8 });
  const c0 = chat.choices[0];
  console.log('chat:', c0.message.role, c0.finish_reason, chat.usage.prompt_tokens, chat.usage.completion_tokens,
              same(c0.message.content, cli(chatWantFile)));

  const stream = await client.chat.completions.create({
    model: 'm', messages, temperature: 0, max_tokens: 8, stream: true, stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    ++chunks;
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      text += ch.delta.content ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  console.log('chat stream:', finish, usage.completion_tokens, chunks > 2 ? 'several chunks' : 'few chunks',
              same(text, cli(chatWantFile)));

  const comp = await client.completions.create({ model: 'm', prompt: 'hello world', temperature: 0, max_tokens: 8 });
  console.log('completion:', comp.choices[0].finish_reason, comp.usage.completion_tokens,
              same(comp.choices[0].text, cli(rawWantFile)));

  const cstream = await client.completions.create({
    model: 'm', prompt: 'hello world', temperature: 0, max_tokens: 8, stream: true });
  let ctext = '';
  for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? '';
  console.log('completion stream:', same(ctext, cli(rawWantFile)));

  try {
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] });
    console.log('error: none');
  } catch (e) {
    console.log('error:', e.constructor.name, e.status, e.param, e.code, e.type);
  }
  try {
    const bad = new OpenAI({ baseURL: process.env.URL + '/v1', apiKey: 'wrong', maxRetries: 0 });
    await bad.models.list();
    console.log('bad key: accepted');
  } catch (e) {
    console.log('bad key:', e.constructor.name, e.status, e.code);
  }
})().catch((e) => { console.log('FAILED:', e); process.exit(1); });
