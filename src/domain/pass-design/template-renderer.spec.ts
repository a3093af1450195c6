import { CampaignTemplate, PersonalisationData } from './campaign-template';
import {
  compileTemplate,
  compileTemplateString,
  findTemplateTokenError,
  renderString,
  renderTemplate,
  templateTokens,
  validateTemplateTokens,
} from './template-renderer';

const data = (
  contact: PersonalisationData['contact'] = {},
  voucher: PersonalisationData['voucher'] = {},
): PersonalisationData => ({ contact, voucher });

const template = (): CampaignTemplate => ({
  organizationName: 'Acme for {{contact.firstName}}',
  description: 'Acme summer voucher',
  logoText: '{{ contact.lastName | Acme }}',
  backgroundColor: '#1E88E5',
  foregroundColor: '#FFFFFF',
  labelColor: '#E3F2FD',
  headerFields: [{ key: 'value', label: 'Value', value: '{{voucher.value}}' }],
  primaryFields: [{ key: 'offer', label: '{{voucher.title}}', value: '{{voucher.title}}' }],
  secondaryFields: [
    {
      key: 'name',
      label: 'Name',
      value: '{{contact.firstName}} {{contact.lastName}}',
      changeMessage: 'Hi {{contact.firstName|there}}: %@',
    },
  ],
  auxiliaryFields: [],
  backFields: [{ key: 'terms', label: 'Terms', value: 'Valid until 31 August' }],
  barcode: { format: 'QR', message: '{{voucher.code}}', altText: 'Code {{voucher.code}}' },
});

describe('renderString', () => {
  it('fills contact and voucher tokens', () => {
    expect(
      renderString(
        '{{contact.firstName}} gets {{voucher.value}}',
        data({ firstName: 'Ada' }, { value: '10%' }),
      ),
    ).toBe('Ada gets 10%');
  });

  it('allows whitespace inside the braces and around the default', () => {
    expect(renderString('{{  contact.firstName  }}', data({ firstName: 'Ada' }))).toBe('Ada');
    expect(renderString('Hi {{ contact.firstName | dear friend }}!', data())).toBe('Hi dear friend!');
  });

  it('renders a missing token without default as an empty string', () => {
    expect(renderString('Hi {{contact.firstName}}!', data())).toBe('Hi !');
    expect(renderString('[{{voucher.code}}]', data({ code: 'not-a-voucher' }))).toBe('[]');
  });

  it('uses the default for missing, null and empty values, not for present ones', () => {
    const s = 'Hi {{contact.firstName|there}}';
    expect(renderString(s, data())).toBe('Hi there');
    expect(renderString(s, data({ firstName: null }))).toBe('Hi there');
    expect(renderString(s, data({ firstName: '' }))).toBe('Hi there');
    expect(renderString(s, data({ firstName: 'Ada' }))).toBe('Hi Ada');
    expect(renderString('{{contact.n|none}}', data({ n: 0 }))).toBe('0');
    expect(renderString('{{contact.b|none}}', data({ b: false }))).toBe('false');
  });

  it('allows an empty default', () => {
    expect(renderString('a{{contact.x|}}b', data())).toBe('ab');
  });

  it('renders numbers and booleans with String()', () => {
    const d = data({ points: 1250, ratio: 0.5, vip: true, big: 1e21, neg: -3 }, { active: false });
    expect(
      renderString(
        '{{contact.points}} {{contact.ratio}} {{contact.vip}} {{contact.big}} {{contact.neg}} {{voucher.active}}',
        d,
      ),
    ).toBe('1250 0.5 true 1e+21 -3 false');
  });

  it('treats values that are not strings, numbers or booleans as missing', () => {
    const contact = {
      obj: { toString: () => 'evil' },
      arr: ['x'],
    } as unknown as PersonalisationData['contact'];
    expect(renderString('{{contact.obj|d}}|{{contact.arr}}', data(contact))).toBe('d|');
  });

  it('handles emoji, RTL text and combining characters in values and defaults', () => {
    const rtl = 'שלום עולם';
    const combining = 'Zoe\u0308 Ame\u0301lie';
    const emoji = '👩🏽‍🚀 🎉';
    expect(
      renderString('{{contact.a}}/{{contact.b}}/{{contact.c}}', data({ a: rtl, b: combining, c: emoji })),
    ).toBe(`${rtl}/${combining}/${emoji}`);
    expect(renderString(`{{contact.a|${rtl}}}`, data())).toBe(rtl);
    expect(renderString(`{{contact.a|${combining}}}`, data())).toBe(combining);
    expect(renderString(`{{contact.a|${emoji} ✨}}`, data())).toBe(`${emoji} ✨`);
    expect(renderString('مرحبا {{contact.name|صديقي}}', data())).toBe('مرحبا صديقي');
  });

  it('does not re-expand tokens inside substituted values', () => {
    const d = data({ firstName: '{{voucher.code}}', lastName: '{{contact.firstName}}' }, { code: 'SECRET' });
    expect(renderString('{{contact.firstName}} {{contact.lastName}}', d)).toBe(
      '{{voucher.code}} {{contact.firstName}}',
    );
    expect(renderString('{{contact.x|{{voucher.code}}', d)).toBe('{{contact.x|SECRET');
  });

  it('only reads own properties, never prototype members', () => {
    const empty = data();
    expect(renderString('[{{contact.__proto__}}]', empty)).toBe('[]');
    expect(renderString('[{{contact.constructor}}]', empty)).toBe('[]');
    expect(renderString('[{{voucher.toString}}|{{voucher.hasOwnProperty}}]', empty)).toBe('[|]');
    expect(renderString('{{contact.constructor|none}}', empty)).toBe('none');
    const own = JSON.parse('{"__proto__":"p","constructor":"c"}') as PersonalisationData['contact'];
    expect(renderString('{{contact.__proto__}}{{contact.constructor}}', data(own))).toBe('pc');
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  it('looks dotted field names up literally', () => {
    const d = data({ 'address.city': 'Paris', address: 'x' });
    expect(renderString('{{contact.address.city}}', d)).toBe('Paris');
    expect(renderString('{{contact.address.zip|?}}', d)).toBe('?');
  });

  it('leaves unknown namespaces and malformed tokens as literal text', () => {
    const d = data({ firstName: 'Ada' });
    expect(renderString('{{foo.bar}} {{contact.firstName}}', d)).toBe('{{foo.bar}} Ada');
    expect(renderString('{{contact.}} {{contact.first name}} {{}}', d)).toBe(
      '{{contact.}} {{contact.first name}} {{}}',
    );
    expect(renderString('{{Contact.firstName}}', d)).toBe('{{Contact.firstName}}');
    expect(renderString('unclosed {{contact.firstName', d)).toBe('unclosed {{contact.firstName');
    expect(renderString('{{contact.firstName}} then {{', d)).toBe('Ada then {{');
  });

  it('binds a token to the innermost opening braces', () => {
    const d = data({ a: 'A' });
    expect(renderString('{{ {{contact.a}}', d)).toBe('{{ A');
    expect(renderString('{{{contact.a}}}', d)).toBe('{A}');
    expect(renderString('}}{{contact.a}}}}', d)).toBe('}}A}}');
  });

  it('renders long adversarial input in linear time', () => {
    const n = 400_000;
    const inputs = [
      '{{'.repeat(n),
      '{{contact.'.repeat(n / 5),
      '{{contact.a|'.repeat(n / 6),
      `${'{'.repeat(n)}contact.a}}`,
      `{{contact.a|${'x '.repeat(n)}}}`,
      '{{contact.a}}'.repeat(n / 7),
      `${' '.repeat(n)}x`,
      `{{${' '.repeat(n)}contact.a${' '.repeat(n)}`,
    ];
    const d = data({ a: 'A' });
    for (const input of inputs) {
      const started = performance.now();
      renderString(input, d);
      validateTemplateTokens(input);
      expect(performance.now() - started).toBeLessThan(1500);
    }
  });
});

describe('compileTemplateString', () => {
  it('compiles a string without tokens to a constant', () => {
    const c = compileTemplateString('Valid until 31 August {{foo.bar}}');
    expect(c.constant).toBe('Valid until 31 August {{foo.bar}}');
    expect(c.parts).toEqual(['Valid until 31 August {{foo.bar}}']);
    expect(c.render(data({ x: 'y' }))).toBe('Valid until 31 August {{foo.bar}}');
  });

  it('pre-parses literals and tokens and renders them repeatedly', () => {
    const c = compileTemplateString('Hi {{contact.firstName|there}}, {{ voucher.code }}');
    expect(c.constant).toBeNull();
    expect(c.parts).toEqual([
      'Hi ',
      { namespace: 'contact', field: 'firstName', fallback: 'there' },
      ', ',
      { namespace: 'voucher', field: 'code', fallback: null },
    ]);
    expect(c.render(data({}, { code: 'A1' }))).toBe('Hi there, A1');
    expect(c.render(data({ firstName: 'Ada' }, { code: 'B2' }))).toBe('Hi Ada, B2');
  });

  it('compiles the empty string', () => {
    expect(compileTemplateString('').render(data())).toBe('');
  });
});

describe('validateTemplateTokens', () => {
  it('accepts valid tokens and plain text', () => {
    expect(validateTemplateTokens('')).toBeNull();
    expect(validateTemplateTokens('Valid until 31 August }}')).toBeNull();
    expect(validateTemplateTokens('{{ contact.firstName | there 🎉 }} {{voucher.code}}')).toBeNull();
    expect(validateTemplateTokens('{{contact.address.city}}')).toBeNull();
  });

  it('reports an unclosed token', () => {
    expect(validateTemplateTokens('Hi {{contact.firstName')).toBe('unclosed "{{" at position 3');
  });

  it('reports a missing field name', () => {
    expect(validateTemplateTokens('{{contact.}}')).toBe('"{{contact.}}" has no field name after "contact."');
    expect(validateTemplateTokens('{{voucher. |x}}')).toMatch(/no field name/);
  });

  it('reports invalid field names', () => {
    expect(validateTemplateTokens('{{contact.first name}}')).toMatch(/invalid field name "first name"/);
    expect(validateTemplateTokens('{{contact.a..b}}')).toMatch(/invalid field name "a\.\.b"/);
    expect(validateTemplateTokens('{{contact.é}}')).toMatch(/invalid field name/);
  });

  it('reports unknown namespaces and non-tokens', () => {
    expect(validateTemplateTokens('{{foo.bar}}')).toBe(
      '"{{foo.bar}}" uses unknown namespace "foo"; use contact or voucher',
    );
    expect(validateTemplateTokens('{{ hello }}')).toMatch(/is not a token/);
    expect(validateTemplateTokens('{{}}')).toMatch(/is not a token/);
    expect(validateTemplateTokens('{{contact .a}}')).toMatch(/is not a token/);
  });

  it('shortens long bodies in messages', () => {
    const message = validateTemplateTokens(`{{contact.${'x y'.repeat(1000)}}}`)!;
    expect(message.length).toBeLessThan(200);
  });
});

describe('renderTemplate', () => {
  const d = data(
    { firstName: 'Ada', lastName: 'Lovelace' },
    { value: '10%', title: '10% off', code: 'SUMMER-001' },
  );

  it('renders every text value and leaves colours, keys and formats untouched', () => {
    const t = template();
    expect(renderTemplate(t, d)).toEqual({
      ...t,
      organizationName: 'Acme for Ada',
      logoText: 'Lovelace',
      headerFields: [{ key: 'value', label: 'Value', value: '10%' }],
      primaryFields: [{ key: 'offer', label: '10% off', value: '10% off' }],
      secondaryFields: [{ key: 'name', label: 'Name', value: 'Ada Lovelace', changeMessage: 'Hi Ada: %@' }],
      barcode: { format: 'QR', message: 'SUMMER-001', altText: 'Code SUMMER-001' },
    });
  });

  it('does not modify the template and does not add absent optional properties', () => {
    const t: CampaignTemplate = {
      organizationName: 'Acme',
      description: '{{contact.x}}',
      headerFields: [{ key: 'k', value: 'v' }],
      primaryFields: [],
      secondaryFields: [],
      auxiliaryFields: [],
      backFields: [],
    };
    const before = JSON.stringify(t);
    const out = renderTemplate(t, data({ x: 'X' }));
    expect(JSON.stringify(t)).toBe(before);
    expect(out.description).toBe('X');
    expect(Object.keys(out).sort()).toEqual(Object.keys(t).sort());
    expect(Object.keys(out.headerFields[0]!)).toEqual(['key', 'value']);
  });

  it('renders a compiled template for many data sets', () => {
    const compiled = compileTemplate(template());
    expect(compiled.render(d).barcode?.message).toBe('SUMMER-001');
    expect(compiled.render(data({}, { code: 'OTHER' })).barcode?.message).toBe('OTHER');
    expect(compiled.render(data()).logoText).toBe('Acme');
  });
});

describe('templateTokens', () => {
  it('lists each used field once per namespace, in order of appearance', () => {
    expect(templateTokens(template())).toEqual({
      contact: ['firstName', 'lastName'],
      voucher: ['value', 'title', 'code'],
    });
    expect(compileTemplate(template()).tokens.voucher).toEqual(['value', 'title', 'code']);
  });

  it('ignores literal text that is not a token', () => {
    const t = { ...template(), description: '{{foo.bar}} {{contact.}}' };
    expect(templateTokens(t).contact).toEqual(['firstName', 'lastName']);
  });
});

describe('findTemplateTokenError', () => {
  it('names the path of the first malformed text value', () => {
    expect(findTemplateTokenError(template())).toBeNull();
    const t = template();
    t.secondaryFields[0]!.value = '{{contact.}}';
    expect(findTemplateTokenError(t)).toBe(
      'secondaryFields[0].value: "{{contact.}}" has no field name after "contact."',
    );
    const u = template();
    u.barcode = { format: 'QR', message: '{{voucher.code' };
    expect(findTemplateTokenError(u)).toMatch(/^barcode\.message: unclosed/);
  });
});
